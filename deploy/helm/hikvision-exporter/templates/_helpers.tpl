{{/* Names and labels shared by the templates. */}}

{{- define "hikvision-exporter.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name, with the chart's appended unless it already holds it. */}}
{{- define "hikvision-exporter.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "hikvision-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hikvision-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hikvision-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hikvision-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret holding the password: the one named in password.existingSecret, or the chart's. */}}
{{- define "hikvision-exporter.secretName" -}}
{{- default (include "hikvision-exporter.fullname" .) .Values.password.existingSecret }}
{{- end }}

{{/* Where the exporter's files are: the configuration and the password (one projected volume), and its state. */}}
{{- define "hikvision-exporter.configDir" -}}/etc/hikvision_exporter{{- end }}
{{- define "hikvision-exporter.storagePath" -}}/var/lib/hikvision_exporter{{- end }}

{{/* The Service's address inside the cluster, for Prometheus. */}}
{{- define "hikvision-exporter.serviceAddress" -}}
{{- printf "%s.%s.svc:%v" (include "hikvision-exporter.fullname" .) .Release.Namespace .Values.service.port }}
{{- end }}

package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// selfSignedCert makes a certificate for loopback and the listen address
// (nil: loopback only), valid for a year. It is its own CA, so a client can
// trust it by adding it to a pool. Its validity uses real time, since TLS
// clients check against real time.
//
// Every certificate has its own subject (the listen address and the serial
// number), as every real device's self-signed certificate does: a client
// trusting a whole fleet's certificates in one pool finds candidate issuers
// by subject, and a shared subject would make every verification try them all.
func selfSignedCert(addr *net.TCPAddr) (tls.Certificate, *x509.Certificate, error) {
	return selfSignedCertValidFor(addr, 365*24*time.Hour)
}

// selfSignedCertValidFor is selfSignedCert expiring validity from now.
func selfSignedCertValidFor(addr *net.TCPAddr, validity time.Duration) (tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("simulator: key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	cn := "simulated device"
	var ip net.IP
	if addr != nil {
		cn += " " + addr.String()
		ip = addr.IP
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{CommonName: cn, SerialNumber: serial.Text(16),
			Organization: []string{"hikvision_exporter simulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip != nil && !ip.IsUnspecified() && !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("simulator: certificate: %w", err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}, parsed, nil
}

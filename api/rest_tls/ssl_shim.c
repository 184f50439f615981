/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ssl_shim: makes Debian 12's civetweb 1.15 TLS work with OpenSSL 3.
 *
 * civetweb loads "libssl.so" with dlopen and looks up SSL_get_peer_certificate,
 * which OpenSSL 3 only has as a macro for SSL_get1_peer_certificate; the
 * missing pointer crashes the first TLS connection (civetweb issue #1334).
 * This module carries the soname "libssl.so" and depends on the real libssl,
 * so once it is loaded civetweb's dlopen("libssl.so") gets it, finds the
 * old name here and every other symbol in libssl.so.3. Loaded by
 * api/rest_tls.c (embedded in the binary).
 *
 * No OpenSSL header on purpose: it would rename this very function.
 */
struct ssl_st;
struct x509_st;

struct x509_st *SSL_get1_peer_certificate(const struct ssl_st *s);
struct x509_st *SSL_get_peer_certificate(const struct ssl_st *s);

struct x509_st *SSL_get_peer_certificate(const struct ssl_st *s)
{
	return SSL_get1_peer_certificate(s);
}

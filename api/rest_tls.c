/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_tls: loads the embedded libssl shim (api/rest_tls/ssl_shim.c) before
 * civetweb initialises TLS, so HTTPS works with OpenSSL 3.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/rest_int.h"

extern const unsigned char api_ssl_shim_so[];
extern const size_t api_ssl_shim_so_len;

int api_rest_tls_prepare(char *err, size_t errlen)
{
	static void *handle; /* loaded once, kept for the process's life */
	char path[64];
	size_t off = 0;
	ssize_t w;
	int fd, ret = 0;

	if (handle)
		return 0;
	fd = memfd_create("capture-appliance-ssl-shim", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "TLS: memfd_create: %m");
		return -errno;
	}
	while (off < api_ssl_shim_so_len) {
		w = write(fd, api_ssl_shim_so + off, api_ssl_shim_so_len - off);
		if (w < 0) {
			ret = -errno;
			snprintf(err, errlen, "TLS: writing the libssl shim: %m");
			goto out;
		}
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (!handle) {
		snprintf(err, errlen, "TLS: can't load libssl (libssl3 installed?): %s",
			 dlerror());
		ret = -ENOENT;
	}
out:
	close(fd); /* dlopen mapped it already */
	return ret;
}

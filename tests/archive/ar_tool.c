/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The archive's public functions from the command line, for the tests
 * against a real S3 service. The target comes from the environment:
 * AR_URL, AR_ENDPOINT, AR_CRED (AR_REGION, AR_RATE bytes/s, AR_PART part
 * size in bytes optional).
 *
 *   ar_tool probe
 *   ar_tool archive STATE_DIR SENSOR CAPTURE TIMEOUT_S FILE...
 *       ar_open, ar_enqueue each, ar_drain; prints one "archived KEY BYTES
 *       MD5" line per on_archived, then the counters
 *   ar_tool list PREFIX          one "KEY BYTES ETAG" line per object
 *   ar_tool get KEY OUT          ar_get into OUT
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"

static struct ar_target target(void)
{
	return (struct ar_target){ .url = getenv("AR_URL"), .endpoint = getenv("AR_ENDPOINT"),
				   .cred_file = getenv("AR_CRED"), .region = getenv("AR_REGION") };
}

static void on_archived(void *arg, const char *capture, const char *path, const char *key,
			uint64_t bytes, const char *md5hex)
{
	printf("archived %s %" PRIu64 " %s\n", key, bytes, md5hex);
	fflush(stdout);
}

static int print_obj(void *arg, const char *key, uint64_t bytes, const char *etag)
{
	printf("%s %" PRIu64 " %s\n", key, bytes, etag);
	return 0;
}

static const char *ename(int e)
{
	switch (-e) {
	case 0: return "OK";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	default: return "EIO";
	}
}

int main(int argc, char **argv)
{
	struct ar_target t = target();
	struct ar_client *c = NULL;
	char err[1024] = "";
	int ret = -EINVAL;

	if (argc >= 2 && !strcmp(argv[1], "archive") && argc >= 7) {
		struct ar_opts o = { .target = t, .state_dir = argv[2], .sensor = argv[3],
				     .on_archived = on_archived, .retry_min_ms = 200,
				     .retry_max_ms = 1000,
				     .rate = getenv("AR_RATE") ? strtoull(getenv("AR_RATE"), NULL, 10) : 0,
				     .part_size = getenv("AR_PART") ? strtoull(getenv("AR_PART"), NULL, 10)
								    : 0 };
		struct ar_stats st;
		struct ar *a;

		ret = ar_open(&o, &a, err, sizeof(err));
		if (ret)
			goto out;
		for (int i = 6; i < argc; i++) {
			ret = ar_enqueue(a, argv[4], argv[i]);
			if (ret) {
				snprintf(err, sizeof(err), "enqueue %s", argv[i]);
				break;
			}
		}
		if (!ret)
			ret = ar_drain(a, (unsigned int)atoi(argv[5]) * 1000);
		ar_get_stats(a, &st);
		printf("uploaded_files %" PRIu64 " uploaded_bytes %" PRIu64 " failures %" PRIu64
		       " queue %" PRIu64 " archived %" PRIu64 " already %" PRIu64 " gone %" PRIu64 "\n",
		       st.uploaded_files, st.uploaded_bytes, st.failures, st.queue, st.archived,
		       st.already, st.gone);
		for (int i = 6; i < argc; i++)
			printf("is_archived %s %d\n", argv[i], ar_is_archived(a, argv[i]));
		ar_close(a);
		goto out;
	}
	ret = ar_client_open(&t, &c, err, sizeof(err));
	if (ret)
		goto out;
	if (argc == 2 && !strcmp(argv[1], "probe")) {
		ret = ar_probe(c, err, sizeof(err));
	} else if (argc == 3 && !strcmp(argv[1], "list")) {
		ret = ar_list(c, argv[2], print_obj, NULL, err, sizeof(err));
	} else if (argc == 4 && !strcmp(argv[1], "get")) {
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		uint64_t bytes = 0;

		ret = fd < 0 ? -errno : ar_get(c, argv[2], fd, &bytes, err, sizeof(err));
		if (fd >= 0)
			close(fd);
		if (!ret)
			printf("%" PRIu64 "\n", bytes);
	} else {
		fprintf(stderr, "usage: see ar_tool.c\n");
		ret = -EINVAL;
	}
out:
	ar_client_close(c);
	if (ret)
		fprintf(stderr, "ar_tool: %s: %s\n", ename(ret), err);
	printf("result %s\n", ename(ret));
	return ret ? 1 : 0;
}

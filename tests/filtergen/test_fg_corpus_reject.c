// SPDX-License-Identifier: BSD-2-Clause
/* Refused expressions: fg_compile must refuse what libpcap refuses, with
 * libpcap's own message. */
#include "test_fg_corpus.h"

#include "filtergen/filtergen.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static int check_one(struct fgt_list *l, const struct fgt_case *c,
		     struct fgt_stats *st)
{
	char perr[PCAP_ERRBUF_SIZE + 64], err[FG_ERR_LEN] = "";
	char why[PCAP_ERRBUF_SIZE + 64];
	struct bpf_program prog;
	struct fg_filter *f = NULL;
	int rc;

	if (!fgt_pcap_compile(c->pcap_expr, c->snaplen, 0, &prog, perr,
			      sizeof(perr))) {
		pcap_freecode(&prog);
		snprintf(why, sizeof(why), "accepted by %s (1.11 refuses)",
			 pcap_lib_version());
		fgt_list_leave_out(l, c->fg_expr, c->origin, why);
		return 0;
	}
	rc = fg_compile(c->fg_expr, c->snaplen, &f, err, sizeof(err));
	fg_free(f);
	if (rc != -EINVAL) {
		st->errors++;
		printf("NOT-REFUSED expr=\"%s\" (%s): fg_compile gave %d (%s), libpcap says: %s\n",
		       c->fg_expr, c->origin, rc, rc ? strerror(-rc) : "ok",
		       perr);
		return 0;
	}
	if (!strstr(err, perr)) {
		st->errors++;
		printf("MESSAGE-DIFFERS expr=\"%s\" (%s): fg \"%s\", libpcap \"%s\"\n",
		       c->fg_expr, c->origin, err, perr);
		return 0;
	}
	st->rejected++;
	if (c->errstr && c->errstr[0] && !strstr(perr, c->errstr)) {
		st->wording++;
		printf("WORDING-1.10-VS-1.11 expr=\"%s\" (%s): 1.10 \"%s\", 1.11 expects \"%s\"\n",
		       c->fg_expr, c->origin, perr, c->errstr);
	}
	return 0;
}

int fgt_reject_self_check(void)
{
	struct fgt_list l = { 0 };
	struct fgt_stats accepted = { 0 }, wrong_msg = { 0 };
	struct fgt_case c = { .fg_expr = "tcp", .pcap_expr = "tcp and",
			      .snaplen = FGT_SNAPLEN_DEFAULT,
			      .origin = "self-check", .errstr = "" };

	check_one(&l, &c, &accepted);
	c.fg_expr = "udp port 99999";
	c.pcap_expr = "tcp port 70000";
	check_one(&l, &c, &wrong_msg);
	fgt_list_free(&l);
	printf("SELF-CHECK accepted \"tcp\" where libpcap refuses: %llu errors (must be 1)\n",
	       (unsigned long long)accepted.errors);
	printf("SELF-CHECK wrong message: %llu errors (must be 1)\n",
	       (unsigned long long)wrong_msg.errors);
	if (accepted.errors != 1 || wrong_msg.errors != 1) {
		printf("SELF-CHECK FAILED: the reject check cannot fail\n");
		return -1;
	}
	return 0;
}

int fgt_check_rejects(struct fgt_list *l, struct fgt_stats *st)
{
	for (size_t i = 0; i < l->nrej; i++)
		check_one(l, &l->rej[i], st);
	fflush(stdout);
	return 0;
}

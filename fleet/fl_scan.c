/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading the catalog: an ordered consumer (ephemeral, flow-controlled,
 * restarted by libnats on a gap) over the subjects a filter names, from
 * the first record to the last one there is when it starts. The stream's
 * per-subject counts say first whether there is anything to read, so an
 * empty catalog costs no wait.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fleet/fl_internal.h"

#define NEXT_WAIT_MS 5000
#define FL_SCAN_TRIES 4

static int count(jsCtx *js, const char *filter, uint64_t *n, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsOptions jo;
	natsStatus s;
	int i;

	jsOptions_Init(&jo);
	jo.Stream.Info.SubjectsFilter = filter;
	s = js_GetStreamInfo(&si, js, FL_STREAM, &jo, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		*n = 0;
		return -ENOENT;
	}
	if (s != NATS_OK) {
		fl_nats_err(s, jerr, "catalog stream info", err, errlen);
		return s == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
	}
	*n = 0;
	if (si->State.Subjects)
		for (i = 0; i < si->State.Subjects->Count; i++)
			*n += si->State.Subjects->List[i].Msgs;
	jsStreamInfo_Destroy(si);
	return 0;
}

/* From stream sequence *next on (0: the first); *next follows what was
 * read, so that a retry resumes there. */
static int scan_once(jsCtx *js, const char *filter, fl_scan_fn fn, void *arg, uint64_t *next,
		     char *err, size_t errlen)
{
	natsSubscription *sub = NULL;
	jsMsgMetaData *meta = NULL;
	natsMsg *m = NULL;
	const char *id;
	jsErrCode jerr = 0;
	jsSubOptions so;
	uint64_t n;
	natsStatus s;
	int ret;

	if (!*next) {
		ret = count(js, filter, &n, err, errlen);
		if (ret == -ENOENT || (!ret && n == 0))
			return 0;
		if (ret)
			return ret;
	}
	jsSubOptions_Init(&so);
	so.Stream = FL_STREAM;
	so.Ordered = true;
	so.Config.DeliverPolicy = *next ? js_DeliverByStartSequence : js_DeliverAll;
	so.Config.OptStartSeq = *next;
	s = js_SubscribeSync(&sub, js, filter, NULL, &so, &jerr);
	if (s != NATS_OK) {
		fl_nats_err(s, jerr, "catalog consumer", err, errlen);
		return s == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
	}
	for (;;) {
		s = natsSubscription_NextMsg(&m, sub, NEXT_WAIT_MS);
		if (s != NATS_OK) {
			fl_nats_err(s, 0, "reading the catalog", err, errlen);
			ret = s == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
			break;
		}
		if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
			natsMsg_Destroy(m);
			continue; /* not a stream message (flow control is libnats') */
		}
		if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK)
			id = "";
		ret = fn(arg, id, meta->Sequence.Stream, natsMsg_GetData(m),
			 (size_t)natsMsg_GetDataLength(m));
		*next = meta->Sequence.Stream + 1;
		n = meta->NumPending;
		jsMsgMetaData_Destroy(meta);
		natsMsg_Destroy(m);
		if (ret || n == 0)
			break;
	}
	natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
	return ret;
}

int fl_scan(natsConnection *nc, jsCtx *js, const char *filter, fl_scan_fn fn, void *arg,
	    char *err, size_t errlen)
{
	uint64_t next = 0;
	int ret, i;

	/* a node lost a moment ago: JetStream answers again once the other
	 * nodes have elected new leaders (seconds) */
	for (i = 0; i < FL_SCAN_TRIES; i++) {
		ret = scan_once(js, filter, fn, arg, &next, err, errlen);
		if (ret != -ETIMEDOUT)
			break;
	}
	return ret;
}

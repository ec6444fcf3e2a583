/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/api.h"
#include "kysod/audit.h"
#include "kysod/batch-request.h"
#include "kysod/batches.h"
#include "kysod/cert-check.h"
#include "kysod/helpers.h"
#include "kysod/sign-flow.h"
#include "kysod/sign-record.h"

#define PROGRESS_EVERY_MS 100
/* A batch's audit log is synced once per this many items. */
#define SYNC_CHUNK 64
/* Frames of items sent on a lane ahead of their answers: the worker finds
 * the next one waiting when it is done with one. */
#define PIPE_DEPTH 2
/* How long the token may take over one frame of items, in microseconds:
 * a cancel is seen within about two frames. */
#define FRAME_TARGET_US 10000

struct batch_run {
	struct kysod *d;
	const struct kysod_request *http;
	struct batch_request req;
	struct sign_target target;
	struct batch batch;
	json_t *items;		/* the answer's items */
	size_t done, failed;
	uint64_t last_intent;
	long last_progress_ms;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void progress(struct batch_run *run, int force)
{
	long now = now_ms();

	if (!force && now - run->last_progress_ms < PROGRESS_EVERY_MS)
		return;
	run->last_progress_ms = now;
	/* a page's stream sees the progress of its own batches only */
	events_publish_owned(&run->d->events, "batch-progress",
			     json_pack("{s:s, s:I, s:I, s:I}", "batch", run->batch.id,
				       "done", (json_int_t)run->done, "failed", (json_int_t)run->failed,
				       "total", (json_int_t)run->req.nitems),
			     run->batch.owner);
}

static void item_failed(struct batch_run *run, const struct batch_item *it, enum kyso_err e,
			const char *message)
{
	json_array_append_new(run->items, json_pack("{s:s, s:{s:s, s:s}}", "id", it->id, "error",
						    "code", kyso_err_code(e), "message",
						    message ? message : kyso_err_message(e)));
	run->failed++;
}

/* When an item's error ends the batch (the token or its module is gone): 1
 * and *stop set to the error the items after it get. */
static int ends_batch(enum kyso_err e, enum kyso_err *stop)
{
	switch (e) {
	case KE_TOKEN_NOT_PRESENT:
		*stop = KE_TOKEN_REMOVED;
		return 1;
	case KE_TOKEN_REMOVED:
	case KE_MODULE_CRASHED:
	case KE_MODULE_TIMEOUT:
	case KE_MODULE_UNAVAILABLE:
	case KE_TOKEN_ERROR:
	case KE_AUDIT_FAILED:
	case KE_PER_SIGNATURE_PIN:
	case KE_SHUTTING_DOWN:
		*stop = e;
		return 1;
	default:
		return 0;
	}
}

static const char *stop_message(enum kyso_err stop)
{
	switch (stop) {
	case KE_BATCH_CANCELLED:
		return "the batch was cancelled";
	case KE_SHUTTING_DOWN:
		return "not signed: kysod is stopping";
	default:
		return "not signed: the batch ended early";
	}
}

/* Puts an item's outcome in the answer: its signature and audit id (rc 0),
 * or the error in rep. Returns 1 when that error ends the batch (*stop set
 * to what the items after it get), else 0. */
static int item_done(struct batch_run *run, const struct batch_item *it, int rc,
		     const struct kyso_reply *rep, uint64_t intent, const unsigned char *sig,
		     size_t sig_len, enum kyso_err *stop)
{
	char ref[64], *b64;
	int ends = 0;

	if (rc) {
		enum kyso_err e = kyso_reply_err(rep);

		item_failed(run, it, e,
			    json_string_value(json_object_get(json_object_get(rep->body, "error"),
							      "message")));
		ends = ends_batch(e, stop);
	} else {
		b64 = kyso_b64_encode(sig, sig_len);
		audit_id(&run->d->audit, intent, ref, sizeof(ref));
		json_array_append_new(run->items, json_pack("{s:s, s:s, s:s}", "id", it->id,
							    "signature", b64 ? b64 : "",
							    "audit_id", ref));
		free(b64);
	}
	run->done++;
	progress(run, 0);
	return ends;
}

/* Why no more items are sent: cancelled, or kysod stops. Returns 1 with
 * *stop set, else 0. */
static int stop_asked(struct batch_run *run, enum kyso_err *stop)
{
	if (batch_cancelled(&run->d->batches, &run->batch)) {
		*stop = KE_BATCH_CANCELLED;
		return 1;
	}
	if (kysod_stopping(run->d)) {
		*stop = KE_SHUTTING_DOWN;
		return 1;
	}
	return 0;
}

/* A frame of items sent on the lane and not answered yet. */
struct in_flight {
	size_t first, count;		/* items [first, first + count) went in one SIGN_MANY */
	uint64_t intent[KYSO_IPC_MAX_MANY];
	int lost;			/* item first + count got no intent entry: not sent,
					 * answered audit_failed */
	struct timespec sent;
};

static long us_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000000L + (now.tv_nsec - t->tv_nsec) / 1000L;
}

/* The fields every audit entry of the batch's items shares. */
static void record_init(const struct batch_run *run, struct sign_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->peer = run->http->peer;
	rec->certificate = run->req.certificate;
	rec->target = &run->target;
	rec->hash_alg = run->req.hash_alg;
	rec->format = "raw";
	rec->batch = run->batch.id;
}

/* rec now records item it. */
static void record_item(struct sign_record *rec, const struct batch_item *it)
{
	rec->hash = it->hash;
	rec->hash_len = it->hash_len;
	rec->item = it->id;
}

/* An item's result entry and its place in the answer. Returns 1 when it
 * ends the batch. */
static int item_answered(struct batch_run *run, size_t index, uint64_t intent, int rc,
			 struct kyso_reply *rep, const unsigned char *sig, size_t sig_len,
			 struct sign_record *rec, enum kyso_err *stop)
{
	struct batch_item *it = &run->req.items[index];
	uint64_t seq;

	record_item(rec, it);
	rec->intent = intent;
	rec->result = rc ? kyso_err_code(kyso_reply_err(rep)) : "ok";
	if (sign_record(run->d, rec, &seq)) {
		rc = -1;
		kyso_reply_clear(rep);
		kyso_reply_error(rep, KE_AUDIT_FAILED, "the audit log cannot be written");
	}
	return item_done(run, it, rc, rep, intent, sig, sig_len, stop);
}

/* The answer to the oldest frame in flight, item by item. *item_us is set
 * to how long the token took per item (the frame waited for the one before
 * it: the time since that one's answer, last). Returns 1 when an item ends
 * the batch. */
static int frame_answered(struct batch_run *run, struct helper_lane *lane,
			  const struct in_flight *f, struct sign_record *rec,
			  struct timespec *last, long *item_us, enum kyso_err *stop)
{
	struct kysod *d = run->d;
	struct kyso_msg ans = { 0 };
	unsigned char sig[SIGN_MAX_SIG];
	enum kyso_err err = KE_INTERNAL_ERROR;
	long since_sent, since_last;
	size_t sig_len, j, off = 0;
	int rc, got, ends = 0;

	if (f->count) {
		/* a frame that could not be sent is answered with why the lane ended */
		got = helper_lane_recv(lane, d->cfg.request_timeout, &ans, &err) == 0;
		since_sent = us_since(&f->sent);
		since_last = us_since(last);
		*item_us = (since_sent < since_last ? since_sent : since_last) / (long)f->count;
		clock_gettime(CLOCK_MONOTONIC, last);
		for (j = 0; j < f->count; j++) {
			struct kyso_reply rep = { 0 };

			sig_len = 0;
			rc = sign_answer_next(d, &run->target, got ? &ans : NULL, err, &off, sig,
					      &sig_len, &rep);
			if (item_answered(run, f->first + j, f->intent[j], rc, &rep, sig, sig_len, rec,
					  stop))
				ends = 1;
			kyso_reply_clear(&rep);
		}
		kyso_msg_clear(&ans);
	}
	if (f->lost) {
		struct kyso_reply rep = { 0 };

		kyso_reply_error(&rep, KE_AUDIT_FAILED, "the audit log cannot be written");
		if (item_done(run, &run->req.items[f->first + f->count], -1, &rep, 0, NULL, 0, stop))
			ends = 1;
		kyso_reply_clear(&rep);
	}
	return ends;
}

/* Items for the next frame: what the token signs in about FRAME_TARGET_US
 * at the pace measured, at least one, at most KYSO_IPC_MAX_MANY. */
static size_t frame_items(long item_us)
{
	long n = item_us > 0 ? FRAME_TARGET_US / item_us : 1;

	return n < 1 ? 1 : n > KYSO_IPC_MAX_MANY ? KYSO_IPC_MAX_MANY : (size_t)n;
}

/* Writes the intent entries of the next items (as many as want) and sends
 * them in one SIGN_MANY. Returns 1 when nothing more is to be sent after it
 * (an intent entry failed, or the lane ended). */
static int frame_send(struct batch_run *run, struct helper_lane *lane, struct in_flight *f,
		      size_t first, size_t want, struct sign_record *rec)
{
	struct kysod *d = run->d;
	unsigned char hashes[KYSO_IPC_MAX_MANY * 64];
	size_t hlen = hash_alg_len(run->req.hash_alg), end;
	struct kyso_out req;
	int last = 0;

	memset(f, 0, sizeof(*f));
	f->first = first;
	end = first + want < run->req.nitems ? first + want : run->req.nitems;
	for (; first + f->count < end; f->count++) {
		struct batch_item *it = &run->req.items[first + f->count];

		record_item(rec, it);
		if (sign_intent(d, rec, &f->intent[f->count])) {
			f->lost = 1;
			last = 1;
			break;
		}
		memcpy(hashes + f->count * hlen, it->hash, hlen);
		run->last_intent = f->intent[f->count];
	}
	if (!f->count)
		return last;
	sign_frame_many(&run->target, hashes, f->count, first + f->count < run->req.nitems, &req);
	clock_gettime(CLOCK_MONOTONIC, &f->sent);
	/* one that cannot be sent is answered with why (the lane ended) */
	if (helper_lane_send(lane, KYSO_OP_SIGN_MANY, &req))
		last = 1;
	kyso_out_free(&req);
	/* once per SYNC_CHUNK items (and for the last), the sync while the
	 * token signs */
	if ((first + f->count) / SYNC_CHUNK != first / SYNC_CHUNK ||
	    first + f->count == run->req.nitems)
		audit_wait(&d->audit, f->intent[f->count - 1]);
	return last;
}

/* The items on one lane of the token's worker, in frames of several items
 * (SIGN_MANY), PIPE_DEPTH frames in flight: each item's intent entry is
 * written before its frame is sent, the log synced once per SYNC_CHUNK items
 * while the token signs, and the answers read in order. The worker never
 * waits for kysod between two items; a frame holds what the token signs in
 * about FRAME_TARGET_US, so that a cancel is seen that soon (after a
 * signature or two on a slow token, whose frames hold one item). */
static void sign_items_piped(struct batch_run *run, struct helper_lane *lane)
{
	struct sign_record rec;
	struct in_flight fl[PIPE_DEPTH];
	struct timespec last;
	enum kyso_err stop = KE_INTERNAL_ERROR;
	size_t next = 0, head = 0, n = 0, i;
	long item_us = 0;
	int stopped = 0;

	record_init(run, &rec);
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (n || (!stopped && next < run->req.nitems)) {
		/* send while there is room */
		while (!stopped && next < run->req.nitems && n < PIPE_DEPTH) {
			struct in_flight *f = &fl[(head + n) % PIPE_DEPTH];

			if (stop_asked(run, &stop)) {
				stopped = 1;
				break;
			}
			stopped = frame_send(run, lane, f, next, frame_items(item_us), &rec);
			next += f->count + f->lost;
			n++;
		}
		if (!n)
			break;
		if (frame_answered(run, lane, &fl[head], &rec, &last, &item_us, &stop))
			stopped = 1;
		head = (head + 1) % PIPE_DEPTH;
		n--;
	}
	/* the items never sent */
	for (i = next; i < run->req.nitems; i++) {
		item_failed(run, &run->req.items[i], stop, stop_message(stop));
		run->done++;
	}
	progress(run, 1);
}

static void sign_items(struct batch_run *run)
{
	struct kysod *d = run->d;
	struct sign_record rec;
	unsigned char sig[SIGN_MAX_SIG];
	enum kyso_err stop = KE_INTERNAL_ERROR;
	int stopped = 0;
	size_t sig_len = 0, i;
	uint64_t intent = 0;

	record_init(run, &rec);
	for (i = 0; i < run->req.nitems; i++) {
		struct batch_item *it = &run->req.items[i];
		struct kyso_reply rep = { 0 };
		int rc, ends;

		if (!stopped && stop_asked(run, &stop))
			stopped = 1;
		if (stopped) {
			item_failed(run, it, stop, stop_message(stop));
			run->done++;
			continue;
		}
		record_item(&rec, it);
		rec.intent = 0;
		/* Each item's intent entry is written before the token signs it;
		 * the log is synced while the last item of every chunk (the last
		 * item of the batch too) is signed: one sync per chunk, and none
		 * that the answer waits for once the token is done. */
		if (sign_intent(d, &rec, &intent)) {
			kyso_reply_error(&rep, KE_AUDIT_FAILED, "the audit log cannot be written");
			ends = item_done(run, it, -1, &rep, 0, NULL, 0, &stop);
		} else {
			run->last_intent = intent;
			run->target.intent = (i % SYNC_CHUNK == SYNC_CHUNK - 1 ||
					      i + 1 == run->req.nitems) ?
					     intent : 0;
			rc = sign_hash_more(d, &run->target, it->hash, it->hash_len,
					    i + 1 < run->req.nitems, sig, &sig_len, &rep);
			ends = item_answered(run, i, intent, rc, &rep, sig, sig_len, &rec, &stop);
		}
		if (ends)
			stopped = 1;
		kyso_reply_clear(&rep);
	}
	progress(run, 1);
}

void api_sign_batch(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kysod *d = req->d;
	struct batch_run run;
	struct sign_consent consent;
	struct helper_lane *lane;
	char what[64];
	int registered = 0;

	memset(&run, 0, sizeof(run));
	run.d = d;
	run.http = req;
	if (batch_request_parse(req->body, req->body_len, d->cfg.max_batch_items, &run.req, rep))
		return;
	/* the items are copied: the body (up to max_batch_body) is not kept
	 * while the user is asked and the token signs */
	if (req->body_done)
		req->body_done(req);
	if (sign_target_init(d, run.req.certificate, run.req.hash_alg, run.req.padding, &run.target,
			     rep))
		goto out;
	/* the certificate is checked before the user is asked anything */
	if (cert_check_signing(d, run.req.certificate, NULL, NULL, NULL, rep))
		goto out;
	if (run.target.cert.per_signature) {
		kyso_reply_error(rep, KE_PER_SIGNATURE_PIN,
				 "this key needs the PIN for each signature; sign its records one by one");
		goto out;
	}
	switch (batches_add(&d->batches, &run.batch, run.req.batch_id[0] ? run.req.batch_id : NULL,
			    req->peer->tcp ? req->peer->origin : "")) {
	case 0:
		break;
	case 1:
		kyso_reply_error(rep, KE_BATCH_EXISTS, "a batch %s is being signed already",
				 run.req.batch_id);
		kyso_reply_error_set(rep, "field", json_string("batch"));
		goto out;
	default:
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "no randomness for the batch id");
		goto out;
	}
	registered = 1;
	snprintf(what, sizeof(what), "%zu record%s", run.req.nitems, run.req.nitems == 1 ? "" : "s");
	consent.what = what;
	consent.description = run.req.description;
	consent.confirm_if_logged_in = 1;
	consent.batch = &run.batch;
	log_info("batch %s: %zu items for %s%s%s (pid %d)", run.batch.id, run.req.nitems,
		 req->peer->origin, req->peer->origin[0] ? " in " : "",
		 kyso_peer_shown(req->peer), (int)req->peer->pid);
	run.items = json_array();
	if (sign_login(d, &run.target, req->peer, &consent, rep)) {
		/* cancelled before the user answered: the dialog is closed, and
		 * the answer is the cancelled batch, nothing signed */
		if (!batch_cancelled(&d->batches, &run.batch))
			goto out;
		kyso_reply_clear(rep);
	} else {
		progress(&run, 1);
	}
	/* on a lane of the token's worker when one is free, else one by one */
	lane = helper_lane_take(d, run.target.cert.module, run.target.cert.token);
	if (lane)
		sign_items_piped(&run, lane);
	else
		sign_items(&run);
	helper_lane_give(lane);
	/* Every intent entry is on disk before any signature is returned (the
	 * last one was synced while its item was signed). */
	if (run.last_intent && audit_wait(&d->audit, run.last_intent)) {
		kyso_reply_error(rep, KE_AUDIT_FAILED,
				 "the audit log cannot be written; no signature is returned");
		goto out;
	}
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:O}",
					  "batch", run.batch.id, "certificate", run.target.cert.id,
					  "algorithm", run.target.algorithm,
					  "total", (json_int_t)run.req.nitems,
					  "signed", (json_int_t)(run.done - run.failed),
					  "failed", (json_int_t)run.failed,
					  "cancelled", batch_cancelled(&d->batches, &run.batch),
					  "items", run.items));
out:
	if (registered)
		batches_remove(&d->batches, &run.batch);
	json_decref(run.items);
	batch_request_free(&run.req);
}

void api_cancel_batch(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	/* a page cancels its own batches only */
	if (batches_cancel(&req->d->batches, arg, req->peer->tcp ? req->peer->origin : NULL)) {
		kyso_reply_error(rep, KE_BATCH_NOT_FOUND, "no batch %.64s is being signed", arg);
		return;
	}
	log_info("batch %s cancelled by pid %d", arg, (int)req->peer->pid);
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:b}", "batch", arg, "cancelled", 1));
}

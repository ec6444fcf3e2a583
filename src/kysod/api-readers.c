/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/hex.h"
#include "kysod/api.h"
#include "kysod/autoload.h"
#include "pcsc/reader-watch.h"

void api_readers(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct reader_info readers[READER_MAX];
	char atr[2 * READER_ATR_MAX + 1];
	json_t *list = json_array();
	size_t n = 0, i;
	int up = 0;

	if (req->d->readers)
		n = reader_watch_list(req->d->readers, readers, READER_MAX, &up);
	for (i = 0; i < n; i++) {
		json_t *r = json_pack("{s:s, s:b}", "name", readers[i].name,
				      "card_present", readers[i].card_present);

		if (!r)
			continue;
		if (readers[i].card_present) {
			const char *kind = autoload_kind(req->d, readers[i].atr, readers[i].atr_len);

			kyso_hex_encode(readers[i].atr, readers[i].atr_len, atr);
			json_object_set_new(r, "atr", json_string(atr));
			json_object_set_new(r, "token_kind", kind ? json_string(kind) : json_null());
		}
		json_array_append_new(list, r);
	}
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:o}", "pcsc", up ? "up" : "down", "readers", list));
}

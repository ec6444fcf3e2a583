/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "pdf/pdf-update.h"

int pdf_update_begin(struct pdf_update *u, struct pdf_doc *doc, FILE *out)
{
	memset(u, 0, sizeof(*u));
	u->doc = doc;
	u->out = out;
	if (fseeko(out, doc->size, SEEK_SET))
		return -1;
	/* the file may end without an end-of-line after %%EOF */
	fputc('\n', out);
	return ferror(out) ? -1 : 0;
}

off_t pdf_update_tell(struct pdf_update *u)
{
	return ftello(u->out);
}

int pdf_update_obj(struct pdf_update *u, int num, int gen)
{
	struct pdf_xref_entry *grown = realloc(u->entries, (u->n + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	u->entries = grown;
	u->entries[u->n].num = num;
	u->entries[u->n].gen = gen;
	u->entries[u->n].offset = ftello(u->out);
	u->n++;
	fprintf(u->out, "%d %d obj\n", num, gen);
	return ferror(u->out) ? -1 : 0;
}

static int by_num(const void *a, const void *b)
{
	const struct pdf_xref_entry *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

/* The entries from i on that follow each other: how many. */
static size_t run_length(const struct pdf_update *u, size_t i)
{
	size_t k = 1;

	while (i + k < u->n && u->entries[i + k].num == u->entries[i].num + (int)k)
		k++;
	return k;
}

static int max_num(const struct pdf_update *u)
{
	int m = u->doc->next_num - 1;
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->entries[i].num > m)
			m = u->entries[i].num;
	return m;
}

static void trailer_entries(struct pdf_update *u, off_t prev)
{
	char *root = pdf_unparse(u->doc, u->doc->root);

	fprintf(u->out, " /Size %d /Root %s /Prev %lld", max_num(u) + 1, root ? root : "null",
		(long long)prev);
	if (u->doc->info)
		fprintf(u->out, " /Info %s", u->doc->info);
	if (u->doc->id)
		fprintf(u->out, " /ID %s", u->doc->id);
	free(root);
}

static int finish_table(struct pdf_update *u)
{
	off_t start = ftello(u->out);
	size_t i, k, j;

	fputs("xref\n", u->out);
	for (i = 0; i < u->n; i += k) {
		k = run_length(u, i);
		fprintf(u->out, "%d %zu\n", u->entries[i].num, k);
		for (j = i; j < i + k; j++)
			fprintf(u->out, "%010lld %05d n\r\n", (long long)u->entries[j].offset,
				u->entries[j].gen);
	}
	fputs("trailer\n<<", u->out);
	trailer_entries(u, u->doc->prev_xref);
	fprintf(u->out, " >>\nstartxref\n%lld\n%%%%EOF\n", (long long)start);
	return 0;
}

/* An uncompressed xref stream, W [1 4 2]; it lists itself. */
static int finish_stream(struct pdf_update *u)
{
	int num = pdf_doc_new_num(u->doc);
	off_t start;
	size_t i, k, j;

	if (pdf_update_obj(u, num, 0))
		return -1;
	start = u->entries[u->n - 1].offset;
	qsort(u->entries, u->n, sizeof(*u->entries), by_num);
	fputs("<< /Type /XRef /W [1 4 2] /Index [", u->out);
	for (i = 0; i < u->n; i += k) {
		k = run_length(u, i);
		fprintf(u->out, "%s%d %zu", i ? " " : "", u->entries[i].num, k);
	}
	fputc(']', u->out);
	trailer_entries(u, u->doc->prev_xref);
	fprintf(u->out, " /Length %zu >>\nstream\n", u->n * 7);
	for (i = 0; i < u->n; i += k) {
		k = run_length(u, i);
		for (j = i; j < i + k; j++) {
			unsigned long long o = (unsigned long long)u->entries[j].offset;
			unsigned int g = (unsigned int)u->entries[j].gen;
			unsigned char e[7] = { 1, (unsigned char)(o >> 24), (unsigned char)(o >> 16),
					       (unsigned char)(o >> 8), (unsigned char)o,
					       (unsigned char)(g >> 8), (unsigned char)g };

			if (o > 0xffffffffull)
				return -1;
			fwrite(e, 1, sizeof(e), u->out);
		}
	}
	fprintf(u->out, "\nendstream\nendobj\nstartxref\n%lld\n%%%%EOF\n", (long long)start);
	return 0;
}

int pdf_update_finish(struct pdf_update *u)
{
	int ret;

	qsort(u->entries, u->n, sizeof(*u->entries), by_num);
	ret = u->doc->xref_stream ? finish_stream(u) : finish_table(u);
	if (fflush(u->out) || ferror(u->out))
		ret = -1;
	return ret;
}

void pdf_update_free(struct pdf_update *u)
{
	free(u->entries);
	memset(u, 0, sizeof(*u));
}

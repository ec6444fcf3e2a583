/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin batch: the manifest, a CSV file (RFC 4180; comma or semicolon
 * separated, as a spreadsheet saves it) with a header line naming its
 * columns and one row per token.  Everything is checked before the batch
 * starts, with the limits kysod would apply, so that a mistake in row 40
 * is found before the first token is touched.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "common/hex.h"
#include "common/utf8.h"
#include "cmd.h"
#include "cmd-admin-batch.h"
#include "output.h"

#define MANIFEST_MAX (1u << 20)
#define ROWS_MAX 5000
#define CELL_MAX 1024
#define PROBLEMS_SHOWN 20

static const char *const step_names[STEP_COUNT] = {
	[STEP_INIT] = "init",
	[STEP_SO_PIN_CHANGE] = "so-pin-change",
	[STEP_PIN_UNBLOCK] = "pin-unblock",
	[STEP_PIN_CHANGE] = "pin-change",
	[STEP_KEYGEN] = "keygen",
	[STEP_CSR] = "csr",
	[STEP_IMPORT] = "import",
};

/* Each column: its name, and the longest value it takes in characters (0: none
 * of its own; the subject's are kysod's, X.520's upper bounds). */
static const struct {
	const char *name;
	size_t max;
} cols[COL_COUNT] = {
	[COL_STEPS] = { "steps", 0 },
	[COL_SERIAL] = { "serial", 64 },
	[COL_LABEL] = { "label", 0 },
	[COL_KEY_TYPE] = { "key_type", 0 },
	[COL_KEY_ID] = { "key_id", 0 },
	[COL_KEY_LABEL] = { "key_label", 0 },
	[COL_HASH_ALG] = { "hash_alg", 0 },
	[COL_CERTIFICATE] = { "certificate", 0 },
	[COL_C] = { "c", 2 },
	[COL_ST] = { "st", 128 },
	[COL_L] = { "l", 128 },
	[COL_O] = { "o", 64 },
	[COL_OU] = { "ou", 64 },
	[COL_TITLE] = { "title", 64 },
	[COL_CN] = { "cn", 64 },
	[COL_SERIAL_NUMBER] = { "serial_number", 64 },
	[COL_UID] = { "uid", 256 },
	[COL_EMAIL] = { "email", 255 },
};

const char *batch_step_name(enum batch_step s)
{
	return s < STEP_COUNT ? step_names[s] : "?";
}

const char *batch_col_name(enum batch_col c)
{
	return c < COL_COUNT ? cols[c].name : "?";
}

const char *batch_row_key_label(const struct batch_row *r)
{
	return r->v[COL_KEY_LABEL] ? r->v[COL_KEY_LABEL] : r->v[COL_CN] ? r->v[COL_CN] :
	       r->v[COL_LABEL];
}

/* ---------------------------------------------------------------- problems */

struct parse {
	const char *name;		/* the manifest's path, for messages */
	const char *p, *end;		/* what is left to read */
	unsigned long line;		/* of *p */
	char sep;
	unsigned problems;
};

static void problem(struct parse *ps, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct parse *ps, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	if (++ps->problems > PROBLEMS_SHOWN)
		return;
	if (line)
		fprintf(stderr, "kyso: %s line %lu: ", ps->name, line);
	else
		fprintf(stderr, "kyso: %s: ", ps->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------- CSV */

/* One record's cells (each a new string; the caller frees). */
struct record {
	char **cells;
	size_t n;
	unsigned long line;
};

static void record_free(struct record *rec)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		free(rec->cells[i]);
	free(rec->cells);
	rec->cells = NULL;
	rec->n = 0;
}

static int record_push(struct record *rec, const char *text, size_t len)
{
	char **cells, *s;

	cells = realloc(rec->cells, (rec->n + 1) * sizeof(*cells));
	if (!cells)
		return -1;
	rec->cells = cells;
	s = strndup(text, len);
	if (!s)
		return -1;
	rec->cells[rec->n++] = s;
	return 0;
}

/*
 * Reads the next record into rec.  Returns 1 for a record, 0 at the end,
 * -1 for a record that cannot be read (reported; the rest of its line is
 * skipped), -2 when out of memory.
 */
static int next_record(struct parse *ps, struct record *rec)
{
	char *cell = NULL;
	size_t len = 0, cap = 0;
	int quoted, ret = -2, skip = 0;
	char c, *p;

	memset(rec, 0, sizeof(*rec));
	if (ps->p >= ps->end)
		return 0;
	rec->line = ps->line;
	for (;;) {
		len = 0;
		quoted = ps->p < ps->end && *ps->p == '"';
		if (quoted)
			ps->p++;
		for (;;) {
			if (ps->p >= ps->end) {
				if (quoted) {
					problem(ps, rec->line, "a quoted value is not closed (a \" is missing)");
					ret = -1;
					goto out;
				}
				break;
			}
			c = *ps->p;
			if (quoted && c == '"') {
				if (ps->p + 1 < ps->end && ps->p[1] == '"') {
					ps->p++;
				} else {
					ps->p++;
					quoted = 0;
					if (ps->p < ps->end && *ps->p != ps->sep && *ps->p != '\r' &&
					    *ps->p != '\n') {
						problem(ps, ps->line,
							"text after the closing \" of a quoted value");
						ret = -1;
						skip = 1;
						goto out;
					}
					continue;
				}
			} else if (!quoted && (c == ps->sep || c == '\r' || c == '\n')) {
				break;
			}
			if (c == '\n')
				ps->line++;
			if (len + 2 > cap) {
				cap = cap ? 2 * cap : 64;
				p = realloc(cell, cap);
				if (!p)
					goto out;
				cell = p;
			}
			cell[len++] = c;
			ps->p++;
		}
		if (record_push(rec, cell ? cell : "", len))
			goto out;
		if (ps->p >= ps->end)
			break;
		if (*ps->p == ps->sep) {
			ps->p++;
			continue;
		}
		/* the end of the line: \n, \r\n or \r */
		if (*ps->p == '\r')
			ps->p++;
		if (ps->p < ps->end && *ps->p == '\n')
			ps->p++;
		ps->line++;
		break;
	}
	free(cell);
	return 1;
out:
	/* a record that cannot be read: the rest of its line is skipped */
	while (skip && ps->p < ps->end && *ps->p != '\n')
		ps->p++;
	if (skip && ps->p < ps->end) {
		ps->p++;
		ps->line++;
	}
	free(cell);
	record_free(rec);
	return ret;
}

/* ---------------------------------------------------------------- checks */

/* The first byte that is not well-formed UTF-8, or NULL. */
static const char *bad_utf8(const char *s, const char *end)
{
	size_t n;

	while (s < end) {
		n = kyso_utf8_seq(s);
		if (!n)
			return s;
		s += n;
	}
	return NULL;
}

static void trim(char *s)
{
	size_t n = strlen(s), k = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[k] == ' ' || s[k] == '\t')
		k++;
	if (k)
		memmove(s, s + k, n - k + 1);
}

static int is_hex(const char *s)
{
	return *s && strspn(s, "0123456789abcdefABCDEF") == strlen(s);
}

/* PrintableString's characters (X.680), as kysod checks them. */
static int printable(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

/* A cell's value alone: control characters, length. */
static void check_cell(struct parse *ps, const struct batch_row *r, enum batch_col c)
{
	const char *v = r->v[c];
	const unsigned char *p;
	size_t chars;

	if (!v)
		return;
	for (p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			problem(ps, r->line, "%s holds a control character or a line break", cols[c].name);
			return;
		}
	chars = kyso_utf8_chars(v, strlen(v));
	if (cols[c].max && chars > cols[c].max)
		problem(ps, r->line, "%s is %zu characters long; at most %zu", cols[c].name, chars,
			cols[c].max);
}

/* The steps cell into r->steps. */
static void parse_steps(struct parse *ps, struct batch_row *r)
{
	char *copy, *tok, *save = NULL;
	unsigned before = ps->problems;
	size_t s;

	if (!r->v[COL_STEPS]) {
		problem(ps, r->line, "steps is empty: name the steps to run (e.g. \"init keygen csr\")");
		return;
	}
	copy = strdup(r->v[COL_STEPS]);
	if (!copy)
		return;
	for (tok = strtok_r(copy, " \t+", &save); tok; tok = strtok_r(NULL, " \t+", &save)) {
		for (s = 0; s < STEP_COUNT && strcasecmp(tok, step_names[s]); s++)
			;
		if (s == STEP_COUNT)
			problem(ps, r->line, "unknown step \"%s\" (the steps are init, so-pin-change, "
				"pin-unblock, pin-change, keygen, csr, import)", tok);
		else if (r->steps & (1u << s))
			problem(ps, r->line, "step %s is named twice", step_names[s]);
		else
			r->steps |= 1u << s;
	}
	free(copy);
	if (!r->steps && ps->problems == before)
		problem(ps, r->line, "steps names no step");
}

/* What the row's steps need of its other cells. */
static void check_row(struct parse *ps, struct batch_row *r)
{
	const char *v, *klabel;
	size_t c;

	for (c = 0; c < COL_COUNT; c++)
		check_cell(ps, r, c);
	parse_steps(ps, r);
	v = r->v[COL_LABEL];
	if ((r->steps & (1u << STEP_INIT)) && !v)
		problem(ps, r->line, "init needs a label (the token's new label)");
	if (v && strlen(v) > 32)
		problem(ps, r->line, "label is %zu bytes long; a token label is at most 32 bytes "
			"(a Vietnamese letter takes 2 or 3)", strlen(v));
	v = r->v[COL_KEY_TYPE];
	if ((r->steps & (1u << STEP_KEYGEN)) && !v)
		problem(ps, r->line, "keygen needs a key_type (rsa2048, rsa3072, p256 or p384)");
	if (v && strcmp(v, "rsa2048") && strcmp(v, "rsa3072") && strcmp(v, "p256") &&
	    strcmp(v, "p384"))
		problem(ps, r->line, "key_type \"%s\" is not rsa2048, rsa3072, p256 or p384", v);
	v = r->v[COL_KEY_ID];
	if (v) {
		if (!is_hex(v) || strlen(v) % 2 || strlen(v) > 128)
			problem(ps, r->line, "key_id must be 1 to 64 bytes in hex (e.g. 01)");
		for (c = 0; v[c]; c++)
			r->v[COL_KEY_ID][c] = (char)(v[c] >= 'A' && v[c] <= 'F' ? v[c] + 32 : v[c]);
	}
	klabel = batch_row_key_label(r);
	if (r->steps & ((1u << STEP_KEYGEN) | (1u << STEP_CSR))) {
		if (!klabel)
			problem(ps, r->line, "%s needs a key_label, a cn or a label to name the key",
				r->steps & (1u << STEP_KEYGEN) ? "keygen" : "csr");
		else if (strlen(klabel) > 64)
			problem(ps, r->line, "the key's label (%s) is %zu bytes long; at most 64: give "
				"a shorter key_label", r->v[COL_KEY_LABEL] ? "key_label" : "cn",
				strlen(klabel));
	}
	if ((r->steps & (1u << STEP_CSR)) && !r->v[COL_CN])
		problem(ps, r->line, "csr needs a cn (the holder's name)");
	v = r->v[COL_HASH_ALG];
	if (v && strcmp(v, "sha256") && strcmp(v, "sha384") && strcmp(v, "sha512"))
		problem(ps, r->line, "hash_alg \"%s\" is not sha256, sha384 or sha512", v);
	if ((r->steps & (1u << STEP_IMPORT)) && !(r->steps & (1u << STEP_CSR)) &&
	    !r->v[COL_CERTIFICATE])
		problem(ps, r->line, "import needs a certificate file, or the csr step (whose "
			"certificate is then looked for next to the request)");
	v = r->v[COL_C];
	if (v && (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z'))
		problem(ps, r->line, "c must be a country's two capital letters (VN)");
	v = r->v[COL_SERIAL_NUMBER];
	if (v && !printable(v))
		problem(ps, r->line, "serial_number may hold only letters without accents, digits, "
			"spaces and '()+,-./:=?");
	v = r->v[COL_EMAIL];
	if (v && kyso_utf8_chars(v, strlen(v)) != strlen(v))
		problem(ps, r->line, "email must be ASCII");
}

/* SHA-256 of data, in hex, into out (65 bytes). */
static void sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		kyso_hex_encode(md, n, out);
}

/* A row's hash: its cells by column name, so that moving columns changes nothing. */
static void row_hash(struct batch_row *r)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t c;

	r->sha256[0] = '\0';
	if (!md)
		return;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (c = 0; c < COL_COUNT; c++) {
		EVP_DigestUpdate(md, cols[c].name, strlen(cols[c].name) + 1);
		EVP_DigestUpdate(md, r->v[c] ? r->v[c] : "", (r->v[c] ? strlen(r->v[c]) : 0) + 1);
	}
	if (EVP_DigestFinal_ex(md, out, &n))
		kyso_hex_encode(out, n, r->sha256);
	EVP_MD_CTX_free(md);
}

/* Rows naming the same serial, or giving new tokens the same label. */
static void check_duplicates(struct parse *ps, const struct batch_manifest *m)
{
	const struct batch_row *a, *b;
	size_t i, j;

	for (i = 0; i < m->nrows; i++) {
		a = &m->rows[i];
		for (j = i + 1; j < m->nrows; j++) {
			b = &m->rows[j];
			if (a->v[COL_SERIAL] && b->v[COL_SERIAL] &&
			    !strcmp(a->v[COL_SERIAL], b->v[COL_SERIAL]))
				problem(ps, b->line, "serial %s is named on line %lu already",
					b->v[COL_SERIAL], a->line);
			if ((a->steps & b->steps & (1u << STEP_INIT)) && a->v[COL_LABEL] &&
			    b->v[COL_LABEL] && !strcmp(a->v[COL_LABEL], b->v[COL_LABEL]))
				problem(ps, b->line, "label \"%s\" is given to the token of line %lu "
					"already: each token initialised needs its own label",
					b->v[COL_LABEL], a->line);
		}
	}
}

/* ---------------------------------------------------------------- the file */

/* The header: which column each cell is (-1: none). */
static int read_header(struct parse *ps, const struct record *rec, int *map)
{
	size_t i, c;
	int seen[COL_COUNT] = { 0 };

	for (i = 0; i < rec->n; i++) {
		trim(rec->cells[i]);
		map[i] = -1;
		if (!rec->cells[i][0])
			continue;
		for (c = 0; c < COL_COUNT && strcasecmp(rec->cells[i], cols[c].name); c++)
			;
		if (c == COL_COUNT) {
			problem(ps, rec->line, "unknown column \"%s\" (the columns are steps, serial, "
				"label, key_type, key_id, key_label, hash_alg, certificate, c, st, l, o, "
				"ou, title, cn, serial_number, uid, email)", rec->cells[i]);
			continue;
		}
		if (seen[c]++)
			problem(ps, rec->line, "column %s is there twice", cols[c].name);
		map[i] = (int)c;
	}
	if (!seen[COL_STEPS])
		problem(ps, rec->line, "the header has no steps column (the first line must name the "
			"columns: steps, label, cn, ...)");
	return seen[COL_STEPS] ? 0 : -1;
}

/* A record as a row; 0, or -1 when out of memory. Empty records are skipped (*added 0). */
static int add_row(struct parse *ps, struct batch_manifest *m, const struct record *rec,
		   const int *map, size_t ncols, int *added)
{
	struct batch_row *rows, *r;
	size_t i;
	int empty = 1;

	*added = 0;
	for (i = 0; i < rec->n; i++) {
		trim(rec->cells[i]);
		if (rec->cells[i][0])
			empty = 0;
	}
	if (empty)
		return 0;
	for (i = ncols; i < rec->n; i++)
		if (rec->cells[i][0]) {
			problem(ps, rec->line, "more cells than the header has columns (%zu)", ncols);
			return 0;
		}
	if (m->nrows == ROWS_MAX) {
		problem(ps, rec->line, "more than %d rows: split the batch", ROWS_MAX);
		return 0;
	}
	rows = realloc(m->rows, (m->nrows + 1) * sizeof(*rows));
	if (!rows)
		return -1;
	m->rows = rows;
	r = &m->rows[m->nrows++];
	memset(r, 0, sizeof(*r));
	r->index = m->nrows;
	r->line = rec->line;
	for (i = 0; i < rec->n && i < ncols; i++) {
		if (map[i] < 0 || !rec->cells[i][0])
			continue;
		if (strlen(rec->cells[i]) > CELL_MAX) {
			problem(ps, rec->line, "%s is longer than %d bytes", cols[map[i]].name, CELL_MAX);
			continue;
		}
		r->v[map[i]] = strdup(rec->cells[i]);
		if (!r->v[map[i]])
			return -1;
	}
	*added = 1;
	return 0;
}

/* The separator: a semicolon when the header line has one and no comma. */
static char separator(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *stop = nl ? nl : end;

	return memchr(p, ';', (size_t)(stop - p)) && !memchr(p, ',', (size_t)(stop - p)) ? ';' : ',';
}

static int parse_all(struct parse *ps, struct batch_manifest *m)
{
	struct record rec;
	int *map = NULL, rc, added;
	size_t ncols = 0;

	rc = next_record(ps, &rec);
	if (rc == -2)
		return -1;
	if (rc <= 0) {
		if (rc == 0)
			problem(ps, 0, "the file is empty: it needs a header line and a row per token");
		return 0;
	}
	ncols = rec.n;
	map = calloc(ncols, sizeof(*map));
	if (!map) {
		record_free(&rec);
		return -1;
	}
	rc = read_header(ps, &rec, map);
	record_free(&rec);
	if (rc)
		goto out;
	while ((rc = next_record(ps, &rec)) != 0) {
		if (rc == -2)
			break;
		if (rc < 0)
			continue;
		rc = add_row(ps, m, &rec, map, ncols, &added);
		record_free(&rec);
		if (rc)
			break;
		if (added) {
			check_row(ps, &m->rows[m->nrows - 1]);
			row_hash(&m->rows[m->nrows - 1]);
		}
	}
	if (rc == 0 && !m->nrows)
		problem(ps, 0, "no rows after the header: nothing to do");
	if (rc == 0)
		check_duplicates(ps, m);
out:
	free(map);
	return rc == -2 || rc == -1 ? -1 : 0;
}

/*
 * The file's text (len bytes at data) into m's rows; its problems counted
 * in ps.  0, or -1 when out of memory.
 */
static int parse_text(struct parse *ps, struct batch_manifest *m, const char *data, size_t len)
{
	const char *bad, *p;
	unsigned long line;

	if (strlen(data) != len) {
		for (line = 1, p = data; *p; p++)
			line += *p == '\n';
		problem(ps, line, "a NUL byte: this is not a text file");
		return 0;
	}
	ps->p = data;
	ps->end = data + len;
	ps->line = 1;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		ps->p += 3;
	bad = bad_utf8(ps->p, ps->end);
	if (bad) {
		for (line = 1, p = data; p < bad; p++)
			line += *p == '\n';
		problem(ps, line, "byte 0x%02x is not UTF-8: save the file as \"CSV UTF-8\" "
			"(a Vietnamese Windows code page, such as 1258, is not read)",
			(unsigned char)*bad);
		return 0;
	}
	ps->sep = separator(ps->p, ps->end);
	return parse_all(ps, m);
}

int batch_manifest_load(const char *path, struct batch_manifest *m)
{
	struct parse ps = { .name = path };
	char *data = NULL, *slash;
	size_t len = 0;
	struct stat st;
	int ret;

	memset(m, 0, sizeof(*m));
	if (stat(path, &st))
		return out_fail(0, "file_error", "cannot read the manifest %s: %s", path,
				strerror(errno));
	if (!S_ISREG(st.st_mode))
		return out_fail(0, "manifest_invalid", "the manifest %s is not a file", path);
	if (st.st_size > MANIFEST_MAX)
		return out_fail(0, "manifest_invalid", "the manifest %s is %lld bytes; at most %u "
				"(split the batch); nothing was done", path, (long long)st.st_size,
				MANIFEST_MAX);
	ret = cmd_read_file(0, path, MANIFEST_MAX, &data, &len);
	if (ret)
		return ret;
	m->path = strdup(path);
	m->dir = strdup(path);
	if (!m->path || !m->dir) {
		ret = out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	slash = strrchr(m->dir, '/');
	if (slash)
		slash[slash == m->dir ? 1 : 0] = '\0';
	else
		strcpy(m->dir, ".");
	sha256_hex(data, len, m->sha256);
	if (parse_text(&ps, m, data, len)) {
		ret = out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	if (ps.problems > PROBLEMS_SHOWN)
		fprintf(stderr, "kyso: %s: %u more problems not shown\n", path,
			ps.problems - PROBLEMS_SHOWN);
	if (ps.problems)
		ret = out_fail(0, "manifest_invalid", "the manifest %s has %u problem%s; nothing was "
			       "done", path, ps.problems, ps.problems == 1 ? "" : "s");
out:
	free(data);
	if (ret)
		batch_manifest_free(m);
	return ret;
}

void batch_manifest_free(struct batch_manifest *m)
{
	size_t i, c;

	for (i = 0; i < m->nrows; i++)
		for (c = 0; c < COL_COUNT; c++)
			free(m->rows[i].v[c]);
	free(m->rows);
	free(m->path);
	free(m->dir);
	memset(m, 0, sizeof(*m));
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latency samples and the result line the load programs print, shared by
 * p11bench and kysoload (header-only: each is one translation unit). */
#ifndef KYSO_BENCH_LATENCY_H
#define KYSO_BENCH_LATENCY_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct lat {
	double *v;
	size_t n, cap;
};

static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void lat_add(struct lat *l, double v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
	}
	l->v[l->n++] = v;
}

/* Moves the samples of from into to, and frees from's. */
static inline void lat_merge(struct lat *to, struct lat *from)
{
	size_t k;

	for (k = 0; k < from->n; k++)
		lat_add(to, from->v[k]);
	free(from->v);
	from->v = NULL;
	from->n = from->cap = 0;
}

static inline int lat_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Prints the result line of a timed run of total signatures (all samples in
 * microseconds; CPU seconds of this process and of the others on the path). */
static inline void lat_report(struct lat *all, unsigned long total, double seconds,
			      double self_cpu, double other_cpu)
{
	qsort(all->v, all->n, sizeof(*all->v), lat_cmp);
	printf("sigs=%lu seconds=%.3f rate=%.1f p50_us=%.0f p99_us=%.0f self_cpu_us=%.1f "
	       "other_cpu_us=%.1f\n", total, seconds, (double)total / seconds, all->v[all->n / 2],
	       all->v[(size_t)((double)all->n * 0.99)], self_cpu / (double)total,
	       other_cpu / (double)total);
}

#endif

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turns bench/run.sh's raw measurements into the results table.

    report.py RAW RESULTS_DIR [--release VERSION]

Prints the table (Markdown) and writes RESULTS_DIR/latest.md; with --release, also
RESULTS_DIR/VERSION.md. Every results file carries its numbers as JSON in a trailing
comment, so a later run can print its change against the last release's file
(the highest VERSION.md present).
"""
import json
import os
import re
import statistics
import sys

DATA_TAG = 'kyso-bench-data'
CG_W = 100  # signatures in the callgrind window (bench/run.sh CG_W)
CG_N_DIRECT = 200  # signatures of the longer direct run (CG_N + CG_W)


def parse_raw(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                continue
            tag, _, rest = line.partition(' ')
            if tag in ('hotplug', 'piv', 'pdf') and rest.startswith('skipped'):
                rows.append((tag, {'skipped': rest.partition(':')[2].strip() or rest}))
                continue
            if tag == 'cgtop':
                parts = rest.split(' ', 4)
                rows.append((tag, {'proc': parts[0].split('=')[1], 'incl': int(parts[1]),
                                   'self': int(parts[2]), 'obj': parts[3], 'fn': parts[4]}))
                continue
            if tag == 'cgentry':
                parts = rest.split(' ', 3)
                rows.append((tag, {'part': parts[0].split('=')[1], 'calls': int(parts[1]),
                                   'incl': int(parts[2]), 'fn': parts[3]}))
                continue
            d = {}
            for m in re.finditer(r'(\w+)=(\S*)', rest):
                k, v = m.group(1), m.group(2)
                if k == 'cmd':
                    break
                try:
                    d[k] = float(v) if re.match(r'^-?[0-9.]+(e[-+]?\d+)?$', v) else v
                except ValueError:
                    d[k] = v
            rows.append((tag, d))
    return rows


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'median': statistics.median(values), 'min': min(values), 'max': max(values),
            'n': len(values)}


def fmt_int(v):
    return '{:,}'.format(int(round(v))) if v is not None else '–'


def fmt_stat(s, scale=1.0, digits=0):
    if not s:
        return '–'
    f = '{:,.%df}' % digits
    med = f.format(s['median'] * scale)
    if s['n'] == 1:
        return med
    return '%s (%s–%s)' % (med, f.format(s['min'] * scale), f.format(s['max'] * scale))


def pct(new, old):
    if new is None or old in (None, 0):
        return ''
    return '%+.1f%%' % ((new - old) / old * 100.0)


def version_key(name):
    return tuple(int(x) for x in re.findall(r'\d+', name))


def load_baseline(results_dir, exclude):
    best = None
    if not os.path.isdir(results_dir):
        return None, None
    for name in os.listdir(results_dir):
        if not re.match(r'^\d+(\.\d+)*\.md$', name) or name == exclude:
            continue
        if best is None or version_key(name) > version_key(best):
            best = name
    if not best:
        return None, None
    with open(os.path.join(results_dir, best)) as f:
        text = f.read()
    m = re.search(r'<!-- %s\n(.*?)\n-->' % DATA_TAG, text, re.S)
    if not m:
        return best, None
    return best, json.loads(m.group(1))


def main():
    raw, results_dir = sys.argv[1], sys.argv[2]
    release = None
    if '--release' in sys.argv:
        release = sys.argv[sys.argv.index('--release') + 1]
    rows = parse_raw(raw)
    meta = {}
    for tag, d in rows:
        if tag == 'meta':
            meta.update({k: (('%g' % v) if isinstance(v, float) else v) for k, v in d.items()})
    version = str(meta.get('version', '?'))
    base_name, base = load_baseline(results_dir, None)
    data = {'version': version, 'meta': {k: str(v) for k, v in meta.items()}}

    # ---------------------------------------------------------------- throughput
    tput = {}
    workers = {}
    by_round = {}
    for tag, d in rows:
        if tag != 'tput':
            continue
        key = '%s/%s/%d' % (d['impl'], d['key'], int(d['conc']))
        t = tput.setdefault(key, {'rate': [], 'p50': [], 'p99': [], 'cpu': []})
        t['rate'].append(d.get('rate'))
        t['p50'].append(d.get('p50_us'))
        t['p99'].append(d.get('p99_us'))
        if isinstance(d.get('self_cpu_us'), float):
            t['cpu'].append(d['self_cpu_us'] + d.get('other_cpu_us', 0.0))
        by_round.setdefault(key, {})[int(d['round'])] = d.get('rate')
        if 'workers' in d:
            workers[key] = int(d['workers'])

    def paired(key, ref):
        """kyso/ref ratios of the runs made in the same round (next to each other)."""
        a, b = by_round.get(key, {}), by_round.get(ref, {})
        return stats([a[r] / b[r] for r in a if r in b and b[r]])
    batch = {}
    for tag, d in rows:
        if tag == 'batch':
            batch.setdefault(d['key'], []).append(d.get('rate'))
            by_round.setdefault('batch/%s' % d['key'], {})[int(d['round'])] = d.get('rate')
    T = {k: {m: stats(v) for m, v in t.items()} for k, t in tput.items()}
    B = {k: stats(v) for k, v in batch.items()}
    data['throughput'] = T
    data['batch'] = B

    def med(key, metric='rate'):
        s = T.get(key, {}).get(metric)
        return s['median'] if s else None

    def base_med(key, metric='rate'):
        try:
            return base['throughput'][key][metric]['median']
        except (TypeError, KeyError):
            return None

    out = []
    w = out.append
    w('# kyso benchmark — %s' % version)
    w('')
    w('%s, %s CPUs (%s), kernel %s; SoftHSM2 %s, p11-kit %s, OpenSC %s. '
      'Each figure: median of %s runs of %s s (after %s s warm-up), min–max in brackets; '
      'the runs of all rows interleaved round by round. Load average at the end: %s.'
      % (meta.get('date', '?'), meta.get('cpus', '?'), str(meta.get('cpu', '?')).replace('_', ' '),
         meta.get('kernel', '?'), meta.get('softhsm', '?'), meta.get('p11kit', '?'),
         meta.get('opensc', '?'), meta.get('rounds', '?'), meta.get('seconds', '?'),
         meta.get('warmup', '?'), str(meta.get('load', '?')).replace('/', ' ')))
    if base_name:
        w('Δ: change of the median against `bench/results/%s`.' % base_name)
    w('')
    audit_fs = '?'
    tmpfs = 'tmpfs'
    for tag, d in rows:
        if tag == 'audit' and 'fs' in d:
            audit_fs = d['fs']
        if tag == 'audit' and 'tmpfs' in d:
            tmpfs = d['tmpfs']
    w('## Signatures over a 32-byte digest (SoftHSM2 token)')
    w('')
    w('kyso: `POST /v1/sign` over the Unix socket, persistent HTTP/1.1 connections, audit log on '
      '(fdatasync before each answer, group commit; on %s), login kept. Ratios: kyso\'s rate over '
      'the direct (p11-kit) rate with the same concurrency (8 clients against 2 threads: the machine '
      'has %s CPUs), taken run by run within a round (the runs compared ran one after the other) '
      'and the median of those given. CPU µs/sig: user + system CPU time per signature of every '
      'process on the path (direct: the program; p11-kit: the program and its `p11-kit-remote`; '
      'kyso: the load generator, kysod and the helper), which the machine\'s other load hardly '
      'changes.' % (audit_fs, meta.get('cpus', '?')))
    w('')
    w('| path | key | conc. | signatures/s | p50 µs | p99 µs | CPU µs/sig | × direct | × p11-kit | Δ sig/s |')
    w('|---|---|---|---|---|---|---|---|---|---|')
    names = {'direct': 'direct PKCS#11', 'p11kit': 'p11-kit remoting', 'kyso': 'kyso',
             'kyso-tmpfs': 'kyso, audit log on %s (not durable; diagnostic)' % tmpfs}
    ratios = {}
    for key in ('rsa', 'ec'):
        kname = 'RSA-2048' if key == 'rsa' else 'P-256'
        for impl, concs in (('direct', (1, 2)), ('p11kit', (1, 2)), ('kyso', (1, 2, 8)),
                            ('kyso-tmpfs', (1, 8))):
            for c in concs:
                k = '%s/%s/%d' % (impl, key, c)
                if k not in T:
                    continue
                unit = 'threads' if impl in ('direct', 'p11kit') else 'clients'
                conc = '%d %s' % (c, unit if c > 1 else unit.rstrip('s'))
                if impl.startswith('kyso'):
                    conc += ' (workers %d)' % workers.get(k, 1)
                rx = rp = ''
                if impl.startswith('kyso'):
                    ref = min(c, 2)
                    for refimpl in ('direct', 'p11kit'):
                        pr = paired(k, '%s/%s/%d' % (refimpl, key, ref))
                        if pr:
                            ratios['%s/%s' % (k, refimpl)] = pr['median']
                            ratios['%s/%s/range' % (k, refimpl)] = [pr['min'], pr['max']]
                    if '%s/direct' % k in ratios:
                        rx = fmt_stat(paired(k, 'direct/%s/%d' % (key, ref)), 1, 2)
                    if '%s/p11kit' % k in ratios:
                        rp = fmt_stat(paired(k, 'p11kit/%s/%d' % (key, ref)), 1, 2)
                w('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                    names[impl], kname, conc, fmt_stat(T[k]['rate']), fmt_stat(T[k]['p50']),
                    fmt_stat(T[k]['p99']), fmt_stat(T[k].get('cpu')), rx, rp,
                    pct(med(k), base_med(k))))
        if key in B and B[key]:
            d_ = paired('batch/%s' % key, 'direct/%s/1' % key)
            p_ = paired('batch/%s' % key, 'p11kit/%s/1' % key)
            r_ = B[key]['median']
            old = None
            try:
                old = base['batch'][key]['median']
            except (TypeError, KeyError):
                pass
            w('| kyso `POST /v1/sign/batch`, 1,000 items (items/s; one consent dialog included) | %s | 1 client (workers 1) | %s | | | | %s | %s | %s |' % (
                kname, fmt_stat(B[key]), fmt_stat(d_, 1, 2), fmt_stat(p_, 1, 2), pct(r_, old)))
            if d_:
                ratios['batch/%s/direct' % key] = d_['median']
    data['ratios'] = ratios
    w('')

    # ---------------------------------------------------------------- CPU
    cg = {}
    for tag, d in rows:
        if tag == 'cg':
            cg.setdefault(d['part'], []).append(d)
    cpu = {}

    def per_sig_pair(part, field):
        items = sorted(cg.get(part, []), key=lambda d: d.get('n', 0))
        if len(items) < 2:
            return None
        return (items[-1][field] - items[0][field]) / CG_W

    if 'direct' in cg:
        cpu['direct_total'] = per_sig_pair('direct', 'total')
        cpu['direct_module'] = per_sig_pair('direct', 'module')
        if cpu['direct_total'] is not None:
            cpu['direct_outside'] = cpu['direct_total'] - cpu['direct_module']
    if 'p11kit-server' in cg:
        cpu['p11kit_server_outside'] = per_sig_pair('p11kit-server', 'total')
    if 'p11kit-client' in cg:
        cpu['p11kit_client_lib'] = per_sig_pair('p11kit-client', 'module')
    for mode in ('outside', 'full'):
        items = cg.get('kyso-' + mode, [])
        for proc in ('kysod', 'helper'):
            win = [d for d in items if d['proc'] == proc and int(d['dump']) == 1]
            idle = [d for d in items if d['proc'] == proc and int(d['dump']) == 2]
            if not win:
                continue
            for field in ('total', 'module'):
                v = win[0][field] - (idle[0][field] if idle else 0)
                cpu['kyso_%s_%s_%s' % (mode, proc, field)] = v / CG_W
                cpu['kyso_%s_%s_%s_idle' % (mode, proc, field)] = (idle[0][field] / CG_W) if idle else 0
    if 'kyso_outside_kysod_total' in cpu and 'kyso_outside_helper_total' in cpu:
        cpu['kyso_outside'] = cpu['kyso_outside_kysod_total'] + cpu['kyso_outside_helper_total']
    if 'kyso_full_helper_module' in cpu:
        cpu['kyso_module'] = cpu['kyso_full_helper_module']
        if 'kyso_full_kysod_total' in cpu and cpu.get('direct_module') is not None:
            cpu['kyso_over_direct_module'] = (cpu['kyso_full_kysod_total'] +
                                              cpu['kyso_full_helper_total'] - cpu['direct_module'])
    data['cpu'] = cpu

    def base_cpu(k):
        try:
            return base['cpu'][k]
        except (TypeError, KeyError):
            return None

    w('## Instructions per signature (callgrind, P-256)')
    w('')
    if not cg:
        w('skipped (BENCH_SKIP=cpu)')
    else:
        w('User-space instructions (valgrind `--tool=callgrind`, Ir) per signature: the difference '
          'between %d and %d signatures, divided by %d. "Outside the module": counted with '
          '`--toggle-collect=C_* --collect-atstart=yes`, so nothing is counted from entry to return '
          'of any PKCS#11 function of the module (libsofthsm2 and the libcrypto code it runs). '
          '"In the module": a second run counting everything, summing the inclusive cost of every '
          'call into libsofthsm2.so. kyso: one persistent connection; after 1 + %d signatures the '
          'counters of kysod and its helper are zeroed, %d more are signed and dumped, then the '
          'same time idle is dumped and subtracted (the helper\'s 500 ms slot poll). '
          'p11-kit: `p11-kit server` under callgrind, its per-connection `p11-kit-remote` '
          'counted, the client program (not counted above) run with 100 and 200 signatures.'
          % (100, 200, CG_W, CG_W, CG_W))
        w('')
        w('| | outside the module | in the module | Δ outside |')
        w('|---|---|---|---|')
        w('| direct PKCS#11 (p11bench: C_SignInit + C_Sign) | %s | %s | %s |' % (
            fmt_int(cpu.get('direct_outside')), fmt_int(cpu.get('direct_module')),
            pct(cpu.get('direct_outside'), base_cpu('direct_outside'))))
        w('| p11-kit server (`p11-kit-remote`) | %s | (as direct) | %s |' % (
            fmt_int(cpu.get('p11kit_server_outside')),
            pct(cpu.get('p11kit_server_outside'), base_cpu('p11kit_server_outside'))))
        w('| p11-kit client library in the calling program (p11-kit-client.so) | %s | | %s |' % (
            fmt_int(cpu.get('p11kit_client_lib')),
            pct(cpu.get('p11kit_client_lib'), base_cpu('p11kit_client_lib'))))
        w('| kyso: kysod | %s | – | %s |' % (
            fmt_int(cpu.get('kyso_outside_kysod_total')),
            pct(cpu.get('kyso_outside_kysod_total'), base_cpu('kyso_outside_kysod_total'))))
        w('| kyso: kyso-p11 helper | %s | %s | %s |' % (
            fmt_int(cpu.get('kyso_outside_helper_total')), fmt_int(cpu.get('kyso_module')),
            pct(cpu.get('kyso_outside_helper_total'), base_cpu('kyso_outside_helper_total'))))
        w('| **kyso: kysod + helper** | **%s** | %s | %s |' % (
            fmt_int(cpu.get('kyso_outside')), fmt_int(cpu.get('kyso_module')),
            pct(cpu.get('kyso_outside'), base_cpu('kyso_outside'))))
        if cpu.get('kyso_module') is not None and cpu.get('direct_module') is not None:
            w('')
            w('kyso makes the module do %s more instructions per signature than the direct program '
              '(module calls besides C_SignInit + C_Sign); kysod + helper over the direct '
              'program\'s module cost, all counted: %s per signature.' % (
                  fmt_int(cpu['kyso_module'] - cpu['direct_module']),
                  fmt_int(cpu.get('kyso_over_direct_module'))))
        ents = [d for tag, d in rows if tag == 'cgentry']
        if ents:
            direct_n = CG_N_DIRECT
            w('')
            w('Calls into the module per signature, and their instructions (kyso: the measured '
              'window, divided by %d, the helper\'s 500 ms slot poll included; direct: the %d-signature '
              'run divided by %d, set-up included):' % (CG_W, direct_n, direct_n))
            w('')
            w('| function | kyso calls/sig | kyso instr./sig | direct calls/sig | direct instr./sig |')
            w('|---|---|---|---|---|')
            kd = {d['fn']: d for d in ents if d['part'] == 'kyso'}
            dd = {d['fn']: d for d in ents if d['part'] == 'direct'}
            order = sorted(set(kd) | set(dd), key=lambda f: -(kd.get(f, {}).get('incl', 0)))
            for fn in order:
                if fn.startswith('0x'):
                    continue
                k_ = kd.get(fn)
                d_ = dd.get(fn)
                if (k_ and k_['incl'] / CG_W < 100) and not (d_ and d_['calls'] >= direct_n):
                    continue
                if not k_ and not (d_ and d_['calls'] >= direct_n):
                    continue
                w('| `%s` | %s | %s | %s | %s |' % (
                    fn, '%.2f' % (k_['calls'] / CG_W) if k_ else '', fmt_int(k_['incl'] / CG_W) if k_ else '',
                    '%.2f' % (d_['calls'] / direct_n) if d_ else '', fmt_int(d_['incl'] / direct_n) if d_ else ''))
        tops = [d for tag, d in rows if tag == 'cgtop']
        if tops:
            w('')
            w('Where kyso\'s instructions go outside the module (top functions by inclusive cost '
              'per signature, from the measured window):')
            w('')
            w('| process | function | object | inclusive | self |')
            w('|---|---|---|---|---|')
            for d in tops:
                w('| %s | `%s` | %s | %s | %s |' % (d['proc'], d['fn'], d['obj'],
                                                    fmt_int(d['incl'] / CG_W), fmt_int(d['self'] / CG_W)))
    w('')

    # ---------------------------------------------------------------- hotplug
    w('## Hotplug (virtual PIV card, OpenSC module, private pcscd)')
    w('')
    hp = [d for tag, d in rows if tag == 'hotplug']
    hot = {}
    if not hp or 'skipped' in hp[0]:
        reason = hp[0]['skipped'] if hp else 'not run'
        w('skipped: %s' % reason)
        hot['skipped'] = reason
    else:
        def col(name):
            return [d.get(name) if isinstance(d.get(name), float) else None for d in hp]
        pi, ki, po, ko = col('pcsc_in'), col('kyso_in'), col('pcsc_out'), col('kyso_out')
        di = [k - p for k, p in zip(ki, pi) if k is not None and p is not None]
        do = [k - p for k, p in zip(ko, po) if k is not None and p is not None]
        missed_in = sum(1 for k in ki if k is None)
        missed_out = sum(1 for k in ko if k is None)
        hot = {'pcsc_in': stats(pi), 'kyso_in': stats(ki), 'delta_in': stats(di),
               'pcsc_out': stats(po), 'kyso_out': stats(ko), 'delta_out': stats(do),
               'rounds': len(hp), 'missed_in': missed_in, 'missed_out': missed_out}
        w('Seconds from the card process starting (insertion) or being stopped (removal) to the '
          'event; %d rounds. "PC/SC": a plain SCardGetStatusChange client (bench/pcscwatch), what '
          'pcscd itself allows. kyso: `token-inserted` / `token-removed` on `/v1/events`.' % len(hp))
        w('')
        w('| | PC/SC client | kyso | kyso − PC/SC | missed by kyso |')
        w('|---|---|---|---|---|')
        w('| insertion | %s | %s | %s | %d |' % (fmt_stat(hot['pcsc_in'], 1, 3), fmt_stat(hot['kyso_in'], 1, 3),
                                               fmt_stat(hot['delta_in'], 1, 3), missed_in))
        w('| removal | %s | %s | %s | %d |' % (fmt_stat(hot['pcsc_out'], 1, 3), fmt_stat(hot['kyso_out'], 1, 3),
                                             fmt_stat(hot['delta_out'], 1, 3), missed_out))
        if missed_in or missed_out:
            w('')
            w('A missed event: none within 5 s of the PC/SC client seeing the change.')
    data['hotplug'] = hot
    w('')

    # ---------------------------------------------------------------- pdf
    w('## Signing a PDF (`kyso pdf sign`, 100 pages, 20 MB)')
    w('')
    pr = [d for tag, d in rows if tag == 'pdf']
    pdf = {}
    if not pr or 'skipped' in pr[0]:
        pdf['skipped'] = pr[0]['skipped'] if pr else 'not run'
        w('skipped: %s' % pdf['skipped'])
    else:
        pdf = {k: stats([d.get(k) for d in pr]) for k in ('total', 'token', 'beyond', 'rss_kib')}
        w('Seconds per signature, RSA-2048 on SoftHSM2, %d rounds; a PDF of %s bytes with an '
          'uncompressed image on each page (bench/pdfsign.py). "token": `kyso sign` of one hash '
          'with the same certificate, the same CLI and socket path.' % (len(pr), fmt_int(pr[0]['bytes'])))
        w('')
        w('| kyso pdf sign | token (kyso sign) | beyond the token | kyso peak RSS, KiB |')
        w('|---|---|---|---|')
        w('| %s | %s | %s | %s |' % (fmt_stat(pdf['total'], 1, 3), fmt_stat(pdf['token'], 1, 3),
                                    fmt_stat(pdf['beyond'], 1, 3), fmt_stat(pdf['rss_kib'])))
    data['pdf'] = pdf
    w('')

    # ---------------------------------------------------------------- footprint
    w('## Footprint and start-up')
    w('')
    foot = {}
    for tag, d in rows:
        if tag == 'foot' and d.get('inst') == 'a':
            foot[str(d['at']).replace('.0', '')] = d
    data['footprint'] = foot
    if foot:
        w('Resident memory, KiB, of kysod with one SoftHSM2 helper (workers 1, production '
          'configuration): VmRSS, then in brackets the private part (pages no other process '
          'shares) and PSS (shared pages split among the processes mapping them, so it depends '
          'on what else runs). "idle": started, token logged in by the first signature, 1 s later.')
        w('')
        w('| | kysod | helper | kysod + helper | Δ total |')
        w('|---|---|---|---|---|')
        for at, label in (('idle', 'idle'), ('1000', 'after 1,000 signatures'),
                          ('10000', 'after 10,000 signatures')):
            d = foot.get(at)
            if not d:
                continue
            tot = d['kysod_rss'] + d['helper_rss']
            old = None
            try:
                o = base['footprint'][at]
                old = o['kysod_rss'] + o['helper_rss']
            except (TypeError, KeyError):
                pass
            def cell(p):
                if p + '_priv' in d:
                    return '%s (private %s, PSS %s)' % (fmt_int(d[p + '_rss']), fmt_int(d[p + '_priv']),
                                                       fmt_int(d[p + '_pss']))
                return '%s (PSS %s)' % (fmt_int(d[p + '_rss']), fmt_int(d[p + '_pss']))
            priv = ''
            if 'kysod_priv' in d:
                priv = ', private %s' % fmt_int(d['kysod_priv'] + d['helper_priv'])
            w('| %s | %s | %s | %s (%.1f MiB%s) | %s |' % (
                label, cell('kysod'), cell('helper'), fmt_int(tot), tot / 1024.0, priv, pct(tot, old)))
        if '1000' in foot and '10000' in foot:
            g = ((foot['10000']['kysod_rss'] + foot['10000']['helper_rss']) -
                 (foot['1000']['kysod_rss'] + foot['1000']['helper_rss']))
            w('')
            w('Growth from 1,000 to 10,000 signatures: %+d KiB (kysod %+d, helper %+d).' % (
                g, foot['10000']['kysod_rss'] - foot['1000']['kysod_rss'],
                foot['10000']['helper_rss'] - foot['1000']['helper_rss']))
    st = [d for tag, d in rows if tag == 'startup' and d.get('inst') == 'a']
    startup = {'first_answer_ms': stats([d.get('first_answer_ms') for d in st]),
               'first_sign_ms': stats([d.get('first_sign_ms') for d in st])}
    data['startup'] = startup
    if st:
        w('')
        w('Start-up, %d starts: first answered request (`GET /v1/status`) %s ms after exec; first '
          'signature %s ms (helper started, module loaded, token logged in with the scripted '
          'pinentry).' % (len(st), fmt_stat(startup['first_answer_ms'], 1, 1),
                          fmt_stat(startup['first_sign_ms'], 1, 1)))
    w('')

    # ---------------------------------------------------------------- PIV card
    w('## The virtual PIV card through OpenSC (RSA-2048, key 9A, one client)')
    w('')
    pv = [d for tag, d in rows if tag == 'piv']
    piv = {}
    if not pv or 'skipped' in pv[0]:
        reason = pv[0]['skipped'] if pv else 'not run'
        w('skipped: %s' % reason)
        piv['skipped'] = reason
    else:
        pr = {}
        for d in pv:
            pr.setdefault(d['impl'], {})[int(d['round'])] = d
        rounds_ = sorted(set(pr.get('direct', {})) & set(pr.get('kyso', {})))
        rr = [pr['kyso'][r]['rate'] / pr['direct'][r]['rate'] for r in rounds_
              if pr['direct'][r].get('rate')]
        pp = [pr['kyso'][r]['p50_us'] / pr['direct'][r]['p50_us'] for r in rounds_
              if pr['direct'][r].get('p50_us')]
        piv = {'rate_ratio': stats(rr), 'p50_ratio': stats(pp), 'rounds': len(rounds_),
               'direct': stats([pr['direct'][r]['rate'] for r in rounds_]),
               'kyso': stats([pr['kyso'][r]['rate'] for r in rounds_])}
        w('A virtual PIV card (tests/vcard/piv-card.py on vpcd, a private pcscd) with OpenSC\'s '
          'module: the direct program (p11bench, C_SignInit + C_Sign) and kyso (`POST /v1/sign`, '
          'login kept, audit log durable) in turn, %d rounds. The card is a Python process on the '
          'same 2 CPUs, so kysod, its helper and the load generator take CPU time from the card '
          'itself: a hardware token does not share the host\'s CPUs.' % len(rounds_))
        w('')
        w('| | signatures/s | p50 µs |')
        w('|---|---|---|')
        for impl in ('direct', 'kyso'):
            w('| %s | %s | %s |' % ('direct PKCS#11' if impl == 'direct' else 'kyso', fmt_stat(piv[impl]),
                                    fmt_stat(stats([pr[impl][r]['p50_us'] for r in rounds_]))))
        if piv['rate_ratio']:
            w('')
            w('kyso × direct, run by run: rate %s, p50 latency (direct over kyso) %s.' % (
                fmt_stat(piv['rate_ratio'], 1, 3),
                fmt_stat(stats([1 / x for x in pp]), 1, 3) if pp else '–'))
    data['piv'] = piv
    w('')

    # ---------------------------------------------------------------- summary
    def pr_med(k, ref):
        pr = paired(k, ref)
        return pr['median'] if pr else None

    def r2(v):
        return '–' if v is None else '%.2f' % v

    # module calls per signature besides C_SignInit + C_Sign: the measured window less the
    # same time idle (the helper's slot poll)
    ents = [d for tag, d in rows if tag == 'cgentry']
    win = {d['fn']: d['calls'] for d in ents if d['part'] == 'kyso'}
    idle_calls = {d['fn']: d['calls'] for d in ents if d['part'] == 'kyso-idle'}
    extra_calls = None
    extra_detail = ''
    if win:
        extra = {}
        for fn, n in win.items():
            if fn in ('C_SignInit', 'C_Sign') or fn.startswith('0x'):
                continue
            e = (n - idle_calls.get(fn, 0)) / CG_W
            if e > 0:
                extra[fn] = e
        extra_calls = sum(extra.values())
        extra_detail = ', '.join('%s %.2f' % (k, v) for k, v in sorted(extra.items())) or 'none'
        extra_detail = 'C_SignInit %.2f, C_Sign %.2f per signature; others (less the idle poll): %s' % (
            win.get('C_SignInit', 0) / CG_W, win.get('C_Sign', 0) / CG_W, extra_detail)
    idle_rss = None
    if 'idle' in foot:
        idle_rss = (foot['idle']['kysod_rss'] + foot['idle']['helper_rss']) / 1024.0
    p11kit_inst = None
    if cpu.get('p11kit_server_outside') is not None and cpu.get('p11kit_client_lib') is not None:
        p11kit_inst = cpu['p11kit_server_outside'] + cpu['p11kit_client_lib']

    w('## Summary: kyso beside direct PKCS#11 and p11-kit')
    w('')
    w('Ratios taken within this run (the median of the round-by-round ratios).')
    w('')
    w('| figure | kyso | p11-kit remoting, same run |')
    w('|---|---|---|')
    w('| RSA-2048, 1 client, × direct PKCS#11 | %s | %s |' % (
        r2(pr_med('kyso/rsa/1', 'direct/rsa/1')), r2(pr_med('p11kit/rsa/1', 'direct/rsa/1'))))
    w('| RSA-2048, 2 clients, × direct 2 threads | %s | %s |' % (
        r2(pr_med('kyso/rsa/2', 'direct/rsa/2')), r2(pr_med('p11kit/rsa/2', 'direct/rsa/2'))))
    w('| P-256, 1 client, × direct | %s | %s |' % (
        r2(pr_med('kyso/ec/1', 'direct/ec/1')), r2(pr_med('p11kit/ec/1', 'direct/ec/1'))))
    w('| P-256, 8 clients, × direct 2 threads | %s | — |' % r2(pr_med('kyso/ec/8', 'direct/ec/2')))
    w('| batch of 1,000, × direct: RSA / P-256 | %s / %s | — |' % (
        r2(pr_med('batch/rsa', 'direct/rsa/1')), r2(pr_med('batch/ec', 'direct/ec/1'))))
    w('| user-space instructions per signature outside the module (kysod + helper) | %s | %s |' % (
        fmt_int(cpu.get('kyso_outside')) if cpu.get('kyso_outside') is not None else '–',
        fmt_int(p11kit_inst) if p11kit_inst is not None else '–'))
    w('| module calls per signature besides C_SignInit + C_Sign (logged-in token) | %s | — |' % (
        '%.2f' % extra_calls if extra_calls is not None else '–'))
    w('| idle RSS, kysod + SoftHSM2 helper | %s | — |' % (
        '%.1f MiB' % idle_rss if idle_rss is not None else '–'))
    w('| virtual PIV card (OpenSC), 1 client, × direct | %s | — |' % (
        r2(piv['rate_ratio']['median']) if piv.get('rate_ratio') else '–'))
    w('')

    # ---------------------------------------------------------------- targets
    w('## Targets')
    w('')
    w('| target | measured | |')
    w('|---|---|---|')
    targets = []

    def target(name, value, ok, text):
        targets.append({'target': name, 'ok': ok})
        w('| %s | %s | %s |' % (name, text, '–' if ok is None else ('met' if ok else '**missed**')))

    def ratio_text(k, ref, goal):
        r = ratios.get(k + '/direct') if not k.startswith('batch') else pr_med(k, ref)
        if r is None:
            return None, 'not measured'
        pr = paired(k, ref)
        extra = ''
        if k.endswith('/1') and med(k, 'p50') and med(ref, 'p50'):
            # one client waits for each answer: its rate is the inverse of its latency
            extra = '; p50 latency ratio %.2f' % (med(ref, 'p50') / med(k, 'p50'))
        elif med(k, 'cpu') and med(ref, 'cpu'):
            # with every CPU busy, the rates go as the inverse CPU time per signature
            extra = '; CPU-time ratio %.2f' % (med(ref, 'cpu') / med(k, 'cpu'))
        short = '' if goal is None or r >= goal else '; %.0f%% short' % ((goal - r) / goal * 100)
        return r, '%.2f (runs %.2f–%.2f%s)%s' % (r, pr['min'], pr['max'], extra, short)

    r, t = ratio_text('kyso/rsa/1', 'direct/rsa/1', 0.85)
    pk = pr_med('p11kit/rsa/1', 'direct/rsa/1')
    if r is not None and pk is not None:
        t += '; p11-kit %.2f' % pk
    target('RSA-2048, 1 client ≥ 0.85 × direct and above p11-kit\'s ratio', r,
           None if r is None or pk is None else (r >= 0.85 and r > pk), t)
    r, t = ratio_text('kyso/rsa/2', 'direct/rsa/2', 0.80)
    target('RSA-2048, 2 clients ≥ 0.80 × direct 2 threads', r, None if r is None else r >= 0.80, t)
    r, t = ratio_text('kyso/ec/1', 'direct/ec/1', None)
    pk = pr_med('p11kit/ec/1', 'direct/ec/1')
    if r is not None and pk is not None:
        t += '; p11-kit %.2f' % pk
    target('P-256, 1 client above p11-kit\'s ratio', r, None if r is None or pk is None else r > pk, t)
    r, t = ratio_text('kyso/ec/8', 'direct/ec/2', 0.50)
    target('P-256, 8 clients ≥ 0.50 × direct 2 threads (audit durable)', r,
           None if r is None else r >= 0.50, t)
    r, t = ratio_text('batch/rsa', 'direct/rsa/1', 0.95)
    target('batch of 1,000, RSA ≥ 0.95 × direct', r, None if r is None else r >= 0.95, t)
    r, t = ratio_text('batch/ec', 'direct/ec/1', 0.70)
    target('batch of 1,000, P-256 ≥ 0.70 × direct', r, None if r is None else r >= 0.70, t)
    v = cpu.get('kyso_outside')
    if v is None:
        target('≤ 60,000 instructions per signature outside the module (kysod + helper)', None, None,
               'not measured')
    else:
        target('≤ 60,000 instructions per signature outside the module (kysod + helper)', v, v <= 60000,
               '%s (kysod %s, helper %s)%s' % (
                   fmt_int(v), fmt_int(cpu.get('kyso_outside_kysod_total')),
                   fmt_int(cpu.get('kyso_outside_helper_total')),
                   '' if v <= 60000 else '; %.1f × the target' % (v / 60000.0)))
    if extra_calls is None:
        target('logged-in token: no module calls per signature besides C_SignInit and C_Sign', None,
               None, 'not measured')
    else:
        target('logged-in token: no module calls per signature besides C_SignInit and C_Sign',
               extra_calls, extra_calls < 0.05 and abs(win.get('C_Sign', 0) / CG_W - 1) < 0.01,
               extra_detail)
    if idle_rss is None:
        target('idle kysod + SoftHSM2 helper ≤ 12 MiB RSS', None, None, 'not measured')
    else:
        target('idle kysod + SoftHSM2 helper ≤ 12 MiB RSS', idle_rss, idle_rss <= 12.0,
               '%.1f MiB (kysod %.1f, helper %.1f)' % (idle_rss, foot['idle']['kysod_rss'] / 1024.0,
                                                     foot['idle']['helper_rss'] / 1024.0))
    if not piv.get('rate_ratio'):
        target('virtual PIV card: kyso within 2 % of the direct program', None, None,
               'skipped: %s' % piv.get('skipped', 'not run'))
    else:
        ov = (1 - piv['rate_ratio']['median']) * 100
        target('virtual PIV card: kyso within 2 % of the direct program', ov, ov <= 2.0,
               '%.1f %% slower by rate (runs %.3f–%.3f); p50 %.1f %% longer' % (
                   ov, piv['rate_ratio']['min'], piv['rate_ratio']['max'],
                   (piv['p50_ratio']['median'] - 1) * 100 if piv.get('p50_ratio') else 0))
    if hot.get('skipped') or not hot:
        target('hotplug: kyso\'s event within 100 ms of a plain PC/SC client', None, None,
               'skipped: %s' % hot.get('skipped', 'not run'))
    else:
        worst = max([s['max'] for s in (hot['delta_in'], hot['delta_out']) if s] or [0])
        medians = '%s ms insertion, %s ms removal (median), worst %.0f ms' % (
            '%.0f' % (hot['delta_in']['median'] * 1000) if hot['delta_in'] else '–',
            '%.0f' % (hot['delta_out']['median'] * 1000) if hot['delta_out'] else '–', worst * 1000)
        missed = hot['missed_in'] + hot['missed_out']
        if missed:
            medians += '; %d event(s) missed' % missed
        target('hotplug: kyso\'s event within 100 ms of a plain PC/SC client', worst,
               worst <= 0.100 and not missed, medians)
    if '1000' in foot and '10000' in foot:
        g = ((foot['10000']['kysod_rss'] + foot['10000']['helper_rss']) -
             (foot['1000']['kysod_rss'] + foot['1000']['helper_rss']))
        target('no growth over 10,000 signatures', g, g <= 256,
               '%+d KiB from 1,000 to 10,000 (≤ 256 KiB counts as none)' % g)
    data['targets'] = targets

    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'notes.md')
    if os.path.exists(notes):
        with open(notes) as f:
            text += '\n' + f.read().rstrip('\n') + '\n'
        sys.stdout.write('\n(what the missed targets need: bench/notes.md, also in bench/results/latest.md)\n')
    blob = '\n<!-- %s\n%s\n-->\n' % (DATA_TAG, json.dumps(data, sort_keys=True))
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, 'latest.md'), 'w') as f:
        f.write(text + blob)
    if release:
        with open(os.path.join(results_dir, '%s.md' % release), 'w') as f:
            f.write(text + blob)
        sys.stderr.write('bench: kept as bench/results/%s.md\n' % release)


if __name__ == '__main__':
    main()

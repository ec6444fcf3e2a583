#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sums a callgrind output file: its total instruction count, and the inclusive count of
every call from outside a given shared object into it (the PKCS#11 module's own cost,
whatever entry point was called and whatever it called in turn, e.g. libcrypto).

    cgsum.py FILE MODULE_SUBSTRING        prints: total=N module=N cmd=...
    cgsum.py --top K FILE [MODULE]        top K functions by inclusive cost, outside MODULE
    cgsum.py --entries FILE MODULE        the calls into MODULE: calls, inclusive cost, function
"""
import re
import sys

NAME = re.compile(r'^\((\d+)\)(?: (.*))?$')


def parse(path, module):
    total = None
    summary = None
    cmd = ''
    names = {'ob': {}, 'fn': {}}
    ob = cob = None
    fn = cfn = None
    module_cost = 0
    entries = {}   # callee function in the module -> [calls, inclusive cost]
    in_call = False
    ncalls = 0
    excl = {}      # (ob, fn) -> self cost
    incl_calls = {}  # (callee ob, callee fn) -> inclusive cost of calls from other functions

    def resolve(kind, text):
        m = NAME.match(text)
        if not m:
            return text
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
            return m.group(2)
        return names[kind].get(m.group(1), text)

    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in '+-*':
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if in_call:
                    callee_ob = cob if cob is not None else ob
                    if module and module in (callee_ob or '') and module not in (ob or ''):
                        module_cost += cost
                        e = entries.setdefault(cfn, [0, 0])
                        e[0] += ncalls
                        e[1] += cost
                    if (callee_ob, cfn) != (ob, fn):
                        key = (callee_ob, cfn)
                        incl_calls[key] = incl_calls.get(key, 0) + cost
                    in_call = False
                    cob = cfn = None
                else:
                    key = (ob, fn)
                    excl[key] = excl.get(key, 0) + cost
                continue
            if line.startswith('ob='):
                ob = resolve('ob', line[3:])
            elif line.startswith('cob='):
                cob = resolve('ob', line[4:])
            elif line.startswith('fn='):
                fn = resolve('fn', line[3:])
                cob = cfn = None
            elif line.startswith('cfn='):
                cfn = resolve('fn', line[4:])
            elif line.startswith('calls='):
                in_call = True
                ncalls = int(line[6:].split()[0])
            elif line.startswith('summary:'):
                summary = int(line.split()[1])
            elif line.startswith('totals:'):
                total = int(line.split()[1])
            elif line.startswith('cmd:'):
                cmd = line[4:].strip()
    if total is None:
        total = summary or 0
    return total, module_cost, cmd, excl, incl_calls, entries


def main():
    args = sys.argv[1:]
    if args and args[0] == '--top':
        k = int(args[1])
        path = args[2]
        module = args[3] if len(args) > 3 else None
        total, _, _, excl, incl_calls, _ = parse(path, module)
        rows = []
        for key, cost in incl_calls.items():
            ob, fn = key
            if module and module in (ob or ''):
                continue
            if fn is None or re.search(r"(start_thread|clone|below main|__libc_start|0x[0-9a-f]+$)", fn):
                continue
            rows.append((cost, excl.get(key, 0), ob, fn))
        rows.sort(reverse=True)
        for cost, self_cost, ob, fn in rows[:k]:
            obj = (ob or '').rsplit('/', 1)[-1]
            print('%d %d %s %s' % (cost, self_cost, obj, fn))
        return
    if args and args[0] == '--entries':
        _, _, _, _, _, entries = parse(args[1], args[2])
        for fn, (calls, cost) in sorted(entries.items(), key=lambda x: -x[1][1]):
            print('%d %d %s' % (calls, cost, fn))
        return
    path, module = args[0], args[1]
    total, module_cost, cmd, _, _, _ = parse(path, module)
    print('total=%d module=%d cmd=%s' % (total, module_cost, cmd))


if __name__ == '__main__':
    main()

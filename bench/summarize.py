#!/usr/bin/env python3
"""Summarize bench/run.sh results: medians over rounds, ratios to PostGraphile and the baseline."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = defaultdict(list)
for r in rows:
    groups[(r["server"], r["query"], r["conc"])].append(r)

def med(key, server, query, conc):
    values = [r[key] for r in groups.get((server, query, conc), [])]
    return statistics.median(values) if values else None

rounds = max(r["round"] for r in rows)
print(f"Medians over {rounds} round(s); every round per server is listed as r1 | r2 | ...\n")
print("| query | server | c | req/s | p50 ms | p99 ms | errors | RSS MB | SQL/req | × PostGraphile | × baseline |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (server, query, conc), rs in sorted(groups.items(), key=lambda k: (k[0][1], k[0][2], k[0][0])):
    rps = med("rps", server, query, conc)
    per_round = " \\| ".join(f"{r['rps']:.0f}" for r in sorted(rs, key=lambda r: r["round"]))
    errors = sum(r["http_errors"] + r["gql_errors"] + r["socket_errors"] + r["timeouts"] for r in rs)
    pg = med("rps", "postgraphile", query, conc)
    base = med("rps", "baseline", query, conc)
    ratio_pg = f"{rps / pg:.2f}" if pg and server.startswith("bantin") else ""
    ratio_base = f"{rps / base:.2f}" if base and server.startswith("bantin") else ""
    print(f"| {query} | {server} | {conc} | {rps:.0f} ({per_round}) | {med('p50_ms', server, query, conc):.1f} | "
          f"{med('p99_ms', server, query, conc):.1f} | {errors} | {med('rss_mb', server, query, conc):.0f} | "
          f"{rs[0]['statements']} | {ratio_pg} | {ratio_base} |")

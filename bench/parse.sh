#!/usr/bin/env bash
# What parsing a scenario costs: peak memory (max resident set, GNU time) of
# `moai validate` on 8 MiB files of the costliest shapes, per MiB of input,
# and the estimate the memory guard makes before parsing (read from its
# refusal under MOAI_MAX_MEMORY=1). Usage: bench/parse.sh
# Needs python3 and GNU time at /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
MOAI=$PWD/target/release/moai
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
python3 - <<'PY'
n = 8 << 20
head = 'algorithm = "gossip"\n[[agents]]\nid = "a"\nvote = "for"\n[proposal]\nx = ['
def array(name, item):
    open(name, 'w').write(head + ','.join([item] * (n // (len(item) + 1))) + ']\n')
array('integers-8-bytes.toml', '1234567')
array('integers-1-byte.toml', '1')
array('empty-arrays.toml', '[]')
array('inline-tables.toml', '{a=1}')
array('nested-arrays.toml', '[[1]]')
array('strings.toml', '"abcdefghijklmn"')
with open('agents.toml', 'w') as f:
    f.write('algorithm = "gossip"\n')
    i = 0
    while f.tell() < n:
        f.write(f'[[agents]]\nid = "agent-{i}"\nvote = "for"\n')
        i += 1
array('dotted-inline-tables.toml', '{a.b.c=1}')
with open('dotted-keys.toml', 'w') as f:
    f.write(head[:-5])
    i = 0
    while f.tell() < n:
        f.write(f'a{i}.b.c.d=1\n')
        i += 1
array('escaped-strings.toml', '"\\n"')
with open('keys.toml', 'w') as f:
    f.write(head[:-5])
    i = 0
    while f.tell() < n:
        f.write(f'k{i}=1\n')
        i += 1
with open('comments.toml', 'w') as f:
    f.write('algorithm = "gossip"\n[[agents]]\nid = "a"\nvote = "for"\n' + '#\n' * (n // 2))
PY
printf '%-22s %8s %10s %12s %12s\n' shape "MiB" "peak MiB" "peak/MiB" "estimate/MiB"
for f in *.toml; do
    size=$(stat -c %s "$f")
    /usr/bin/time -f %M -o peak.txt "$MOAI" validate "$f" >/dev/null 2>&1 || true
    peak=$(tail -1 peak.txt)
    estimate=$(MOAI_MAX_MEMORY=1 "$MOAI" run "$f" 2>&1 | sed -n 's/.*needs about \([0-9.]*\) \([MG]\)iB.*/\1 \2/p') || true
    python3 -c "
size=$size/2**20; peak=$peak/1024; e,u='$estimate'.split(); e=float(e)*(1024 if u=='G' else 1)
print(f'%-22s %8.1f %10.0f %12.1f %12.1f' % ('${f%.toml}', size, peak, peak/size, e/size))"
done

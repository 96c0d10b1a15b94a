#!/usr/bin/env bash
# gen-bounces.sh: make a real Postfix and a real Exim produce non-delivery
# notices and store them as test cases for internal/bounce.
#
# Both MTAs run privately on loopback (../shared/tools/postfix-instance.sh and
# exim-instance.sh; root needed, Postfix gets installed if missing). They relay
# everything to a scripted SMTP sink that refuses chosen recipients with chosen
# replies (550 5.1.1, 452 4.2.2, 554 5.7.1 after DATA, ...). The MTAs then send
# their bounces and delay warnings to the list's bounce address, which the same
# sink accepts and records. Each captured notice becomes
#   internal/bounce/testdata/gen-<mta>-<case>.eml   (envelope as Return-Path/Delivered-To)
#   internal/bounce/testdata/gen-<mta>-<case>.json  ({"permanent":[...],"temporary":[...]})
# where the expected result comes from the scenario table below (what the sink
# was told to do), not from the parser. Servers are stopped by PID on exit.
#
# Usage: sudo scripts/gen-bounces.sh [postfix|exim|all]     (default all)
# Env:   HERALD_TOOLS (default ../shared/tools next to the repo), PORT_BASE (default 12520)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${HERALD_TOOLS:-$(cd "$root/../shared/tools" 2>/dev/null && pwd || true)}
[ -x "$tools/postfix-instance.sh" ] || { echo "gen-bounces: no MTA tools in '$tools' (set HERALD_TOOLS)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "gen-bounces: must run as root (the MTAs need it)" >&2; exit 1; }
which=${1:-all}
out=$root/internal/bounce/testdata
base=${PORT_BASE:-12520}
pf_port=$((base + 1)) ex_port=$((base + 2)) sink_port=$((base + 3)) unused_lmtp=$((base + 4))
work=$(mktemp -d /tmp/gen-bounces.XXXXXX)
chmod 755 "$work"
sink_pid="" pf_started="" ex_started=""

cleanup() {
  [ -n "$pf_started" ] && "$tools/postfix-instance.sh" stop "$work/pf" >/dev/null 2>&1 || true
  [ -n "$ex_started" ] && "$tools/exim-instance.sh" stop "$work/ex" >/dev/null 2>&1 || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "gen-bounces: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- the scripted remote server --------------------------------------------
# rules: "ADDRESS STAGE REPLY...", STAGE rcpt (refused at RCPT) or data (after DATA)
cat >"$work/rules" <<'EOF'
bob@remote.example rcpt 550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown in local recipient table
carol@remote.example rcpt 452 4.2.2 <carol@remote.example>: Mailbox full, try again later
dave@remote.example rcpt 552 5.2.2 <dave@remote.example>: Mailbox quota exceeded
erin@remote.example data 550 5.7.1 Message rejected due to DMARC policy (p=reject) of the sender domain
frank@remote.example rcpt 554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org
grace@remote.example data 552 5.3.4 Message size exceeds fixed maximum message size
heidi@remote.example rcpt 451 4.7.1 <heidi@remote.example>: Recipient address rejected: Greylisted, try again later
ivan@remote.example rcpt 550 5.1.1 The email account that you tried to reach does not exist
jörg@remote.example rcpt 550 5.1.1 <jörg@remote.example>: Recipient address rejected: User unknown
EOF

cat >"$work/sink.py" <<'EOF'
import os, socket, sys, threading, itertools
host, port, outdir, rules_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rules = {}
for line in open(rules_file, encoding='utf-8'):
    p = line.rstrip('\n').split(' ', 2)
    if len(p) == 3:
        rules[p[0].lower()] = (p[1], p[2])
os.makedirs(outdir, exist_ok=True)
seq, lock = itertools.count(1), threading.Lock()
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port)); srv.listen(32)
def serve(c):
    f = c.makefile('rb')
    def send(*ls): c.sendall(''.join(l + '\r\n' for l in ls).encode('utf-8'))
    send('220 remote.example ESMTP scripted sink')
    frm, rcpts, data_reply = None, [], None
    try:
        while True:
            raw = f.readline()
            if not raw: return
            line = raw.decode('utf-8', 'replace').rstrip('\r\n'); verb = line[:4].upper()
            if verb == 'EHLO':
                send('250-remote.example', '250-PIPELINING', '250-8BITMIME', '250-SMTPUTF8', '250-ENHANCEDSTATUSCODES', '250 SIZE 10240000')
            elif verb == 'HELO': send('250 remote.example')
            elif verb == 'MAIL':
                frm, rcpts, data_reply = line[10:].split(' ')[0].strip('<>'), [], None; send('250 2.1.0 Ok')
            elif verb == 'RCPT':
                a = line[8:].split(' ')[0].strip('<>'); r = rules.get(a.lower())
                if r and r[0] == 'rcpt': send(r[1])
                else:
                    if r and r[0] == 'data': data_reply = data_reply or r[1]
                    rcpts.append(a); send('250 2.1.5 Ok')
            elif verb == 'DATA':
                if not rcpts: send('554 5.5.1 Error: no valid recipients'); continue
                send('354 End data with <CR><LF>.<CR><LF>')
                body = []
                while True:
                    l = f.readline()
                    if not l or l in (b'.\r\n', b'.\n'): break
                    body.append(l[1:] if l.startswith(b'..') else l)
                if data_reply: send(data_reply); continue
                with lock: n = next(seq)
                hdr = 'X-Gen-Mail-From: %s\r\nX-Gen-Rcpt-To: %s\r\n' % (frm, ','.join(rcpts))
                tmp = os.path.join(outdir, '.%06d' % n)
                with open(tmp, 'wb') as o: o.write(hdr.encode('utf-8') + b''.join(body))
                os.rename(tmp, os.path.join(outdir, '%06d.eml' % n))
                send('250 2.0.0 Ok: queued as SINK%06d' % n)
            elif verb in ('RSET', 'NOOP'):
                if verb == 'RSET': frm, rcpts, data_reply = None, [], None
                send('250 2.0.0 Ok')
            elif verb == 'QUIT': send('221 2.0.0 Bye'); return
            else: send('502 5.5.2 Error: command not recognized')
    except OSError: pass
    finally: c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF

# send.py PORT FROM RCPT[,RCPT...] SUBJECT [notify=...] [smtputf8] [big]
cat >"$work/send.py" <<'EOF'
import smtplib, sys
port, frm, rcpts, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(','), sys.argv[4]
opts = sys.argv[5:]
notify = [o[7:] for o in opts if o.startswith('notify=')]
utf8 = 'smtputf8' in opts
body = 'Hello list,\r\n\r\nthis is a test post for the bounce corpus.\r\n'
if 'big' in opts:
    body += ('x' * 76 + '\r\n') * 2000
msg = ('From: Dev List <dev@lists.example.org>\r\nTo: %s\r\nSubject: %s\r\n'
       'Message-ID: <%s@lists.example.org>\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\n'
       'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s') % (
    ', '.join(rcpts), subject, subject.replace(' ', '.'), body)
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('lists.example.org')
mopts = ['SMTPUTF8', 'BODY=8BITMIME'] if utf8 else []
ropts = ['NOTIFY=' + notify[0]] if notify else []
try:
    s.sendmail(frm, rcpts, msg.encode('utf-8'), mail_options=mopts, rcpt_options=ropts)
except smtplib.SMTPRecipientsRefused as e:
    print('refused at once:', e, file=sys.stderr)
s.quit()
EOF

python3 "$work/sink.py" 127.0.0.1 "$sink_port" "$work/got" "$work/rules" &
sink_pid=$!
for _ in $(seq 50); do (: >"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && break; sleep 0.1; done

list=dev-bounces@lists.example.org
verp() { local a=$1; echo "dev-bounces+${a%@*}=${a#*@}@lists.example.org"; }

# expect NAME PERMANENT TEMPORARY: remembers what case NAME must yield
declare -A want_perm want_temp
expect() { want_perm[$1]=$2; want_temp[$1]=$3; }

# send_case MTA PORT NAME FROM RCPTS [options]: the subject carries the case name
send_case() {
  local mta=$1 port=$2 name=$3 from=$4 rcpts=$5; shift 5
  python3 "$work/send.py" "$port" "$from" "$rcpts" "gen-$mta-$name" "$@"
}

# wait_for N: until the sink holds N messages (or 90 s)
wait_for() {
  for _ in $(seq 900); do
    [ "$(find "$work/got" -name '*.eml' 2>/dev/null | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "gen-bounces: only $(find "$work/got" -name '*.eml' | wc -l) of $1 messages arrived" >&2
}

got_count() { find "$work/got" -name '*.eml' 2>/dev/null | wc -l; }

json_list() { local IFS=,; local x out=""; for x in $1; do out+="${out:+,}\"$x\""; done; echo "[$out]"; }

# store: every captured message sent to the bounce address becomes a test case,
# named after the case whose subject it quotes (a second one gets a suffix).
store() {
  local f name mf rt dst n
  for f in "$work"/got/*.eml; do
    mf=$(sed -n 's/^X-Gen-Mail-From: \(.*\)\r$/\1/p' "$f" | head -1)
    rt=$(sed -n 's/^X-Gen-Rcpt-To: \(.*\)\r$/\1/p' "$f" | head -1)
    case "$rt" in *-bounces*@lists.example.org) ;; *) continue ;; esac
    name=$(grep -ao 'gen-[a-z]*-[a-z0-9-]*' "$f" | head -1)
    [ -n "$name" ] || { echo "gen-bounces: $f quotes no case" >&2; continue; }
    local key=${name#gen-}
    if [ -z "${want_perm[$key]+x}" ]; then echo "gen-bounces: unknown case $key" >&2; continue; fi
    dst=$out/$name; n=2
    while [ -e "$dst.eml" ]; do dst=$out/$name-$n; n=$((n + 1)); done
    # what a local delivery agent would add, instead of the sink's envelope lines
    { printf 'Return-Path: <%s>\r\nDelivered-To: %s\r\n' "$mf" "$rt"; grep -av '^X-Gen-' "$f"; } >"$dst.eml"
    printf '{"permanent":%s,"temporary":%s}\n' "$(json_list "${want_perm[$key]}")" "$(json_list "${want_temp[$key]}")" >"$dst.json"
    echo "stored $(basename "$dst").eml"
    rm -f "$f"
  done
}

run_postfix() {
  local pf=$work/pf n0
  rm -f "$out"/gen-postfix-*
  "$tools/postfix-instance.sh" start "$pf" "$pf_port" "127.0.0.1:$sink_port" >/dev/null
  pf_started=1
  "$tools/postfix-instance.sh" postconf "$pf" 'smtputf8_enable = yes'
  n0=$(got_count)
  # refused at RCPT or after DATA: a bounce at once
  expect postfix-user-unknown bob@remote.example ""
  send_case postfix "$pf_port" user-unknown "$list" bob@remote.example
  expect postfix-quota-552 dave@remote.example ""
  send_case postfix "$pf_port" quota-552 "$list" dave@remote.example
  expect postfix-dmarc erin@remote.example ""
  send_case postfix "$pf_port" dmarc "$list" erin@remote.example
  expect postfix-blocklist frank@remote.example ""
  send_case postfix "$pf_port" blocklist "$list" frank@remote.example
  expect postfix-too-large grace@remote.example ""
  send_case postfix "$pf_port" too-large "$list" grace@remote.example big
  expect postfix-two-failed bob@remote.example,ivan@remote.example ""
  send_case postfix "$pf_port" two-failed "$list" bob@remote.example,ok1@remote.example,ivan@remote.example
  expect postfix-verp bob@remote.example ""
  send_case postfix "$pf_port" verp "$(verp bob@remote.example)" bob@remote.example
  expect postfix-smtputf8 jörg@remote.example ""
  send_case postfix "$pf_port" smtputf8 "$list" jörg@remote.example smtputf8
  # a success report (NOTIFY=SUCCESS): names no failure
  expect postfix-success "" ""
  send_case postfix "$pf_port" success "$list" ok2@remote.example notify=SUCCESS
  # 9 notices + 2 relayed posts
  wait_for $((n0 + 11)); sleep 1; store
  # delay warnings: a 4xx that keeps the message queued
  "$tools/postfix-instance.sh" postconf "$pf" 'delay_warning_time = 2s'
  n0=$(got_count)
  expect postfix-delay-greylist "" heidi@remote.example
  send_case postfix "$pf_port" delay-greylist "$list" heidi@remote.example
  expect postfix-delay-full "" carol@remote.example
  send_case postfix "$pf_port" delay-full "$list" carol@remote.example
  wait_for $((n0 + 2)); sleep 1; store
  /usr/sbin/postsuper -c "$pf/etc" -d ALL >/dev/null 2>&1 || true
  # given up on a transient error: Action failed with a 4.x.x status
  "$tools/postfix-instance.sh" postconf "$pf" 'delay_warning_time = 0' 'maximal_queue_lifetime = 0' 'bounce_queue_lifetime = 0'
  n0=$(got_count)
  expect postfix-expired-full "" carol@remote.example
  send_case postfix "$pf_port" expired-full "$list" carol@remote.example
  wait_for $((n0 + 1)); sleep 1; store
  "$tools/postfix-instance.sh" stop "$pf"; pf_started=""
}

run_exim() {
  local ex=$work/ex n0
  rm -f "$out"/gen-exim-*
  mkdir -p "$ex"
  # DSNs for whoever asks for them (NOTIFY=); one delay warning after 6 s (the next after 1 h)
  cat >"$ex/main.conf" <<'EOF'
dsn_advertise_hosts = *
delay_warning = 6s:1h
EOF
  "$tools/exim-instance.sh" start "$ex" "$ex_port" "127.0.0.1:$sink_port" "127.0.0.1:$unused_lmtp" >/dev/null
  ex_started=1
  n0=$(got_count)
  expect exim-user-unknown bob@remote.example ""
  send_case exim "$ex_port" user-unknown "$list" bob@remote.example
  expect exim-quota-552 dave@remote.example ""
  send_case exim "$ex_port" quota-552 "$list" dave@remote.example
  expect exim-dmarc erin@remote.example ""
  send_case exim "$ex_port" dmarc "$list" erin@remote.example
  expect exim-blocklist frank@remote.example ""
  send_case exim "$ex_port" blocklist "$list" frank@remote.example
  expect exim-too-large grace@remote.example ""
  send_case exim "$ex_port" too-large "$list" grace@remote.example big
  expect exim-two-failed bob@remote.example,ivan@remote.example ""
  send_case exim "$ex_port" two-failed "$list" bob@remote.example,ok1@remote.example,ivan@remote.example
  expect exim-verp bob@remote.example ""
  send_case exim "$ex_port" verp "$(verp bob@remote.example)" bob@remote.example
  expect exim-dsn bob@remote.example ""
  send_case exim "$ex_port" dsn "$list" bob@remote.example notify=FAILURE,DELAY
  wait_for $((n0 + 9)); sleep 1; store
  n0=$(got_count)
  expect exim-delay-greylist "" heidi@remote.example
  send_case exim "$ex_port" delay-greylist "$list" heidi@remote.example
  expect exim-delay-dsn "" carol@remote.example
  send_case exim "$ex_port" delay-dsn "$list" carol@remote.example notify=FAILURE,DELAY
  wait_for $((n0 + 2)); sleep 1; store
  # drop what is still queued, so that nothing but the next case gives up
  local ids; ids=$("$tools/exim-instance.sh" exim "$ex" -bpr | awk '/^ *[0-9]+[smhd] /{print $3}')
  [ -z "$ids" ] || "$tools/exim-instance.sh" exim "$ex" -Mrm $ids >/dev/null
  # give up on the transient errors: retry rule of a few seconds
  sed -i 's/^\*  \*  F,1h,5s$/*  *  F,3s,1s/' "$ex/exim.conf"
  "$tools/exim-instance.sh" reload "$ex"
  n0=$(got_count)
  expect exim-expired-full "" carol@remote.example
  send_case exim "$ex_port" expired-full "$list" carol@remote.example
  wait_for $((n0 + 1)); sleep 1; store
  "$tools/exim-instance.sh" stop "$ex"; ex_started=""
}

case "$which" in
  postfix) run_postfix ;;
  exim) run_exim ;;
  all) run_postfix; run_exim ;;
  *) echo "usage: $0 [postfix|exim|all]" >&2; exit 2 ;;
esac
left=$(find "$work/got" -name '*.eml' | wc -l)
[ "$left" -eq 0 ] || echo "gen-bounces: $left captured messages were not stored (KEEP=1 to look at them)" >&2

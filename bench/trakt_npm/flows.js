// SPDX-License-Identifier: Apache-2.0
'use strict';
// The npm package trakt.tv driving N device flows against the emulator: the
// reference "Node client many apps use" for bench/run.sh.
//
//   node --expose-gc flows.js --url URL --flows N [--pid EMULATOR_PID]
//        [--client-id ID] [--client-secret S] [--instance-per-flow]
//
// How the package polls (node_modules/trakt.tv/trakt.js, poll_access): a
// setInterval of the code's interval per flow, started when poll_access is
// called; each tick POSTs /oauth/device/token with got, without waiting for
// the previous answer. 400 is ignored (pending); 200 resolves; anything else,
// 429 included, clears the interval and rejects: the flow is over. The base
// URL is the api_url setting.
//
// Figures (one line of key=value, like the C programs):
//   cpu_us_per_poll  process.cpuUsage() (user+system, all threads) from just
//                    before the flows are added until the last one settles,
//                    divided by the polls sent
//   rss_per_flow / heap_per_flow
//                    process.memoryUsage() after adding the flows minus
//                    before (after a full GC), divided by N, taken before any
//                    flow's first poll. The codes and this script's own
//                    per-flow records exist in both snapshots.
//   late_p50/p99_ms  when the package handed each poll to got, minus its due
//                    time: poll k of a flow is due k intervals after
//                    poll_access was called (that is the package's own
//                    schedule; it does not count from the previous answer)
//   polls_per_s      polls sent / (last settle - first add)
//   tokens, expired, rejected_429, rejected_other: how the flows ended
//   connections, early_polls: deltas of the emulator's /stats
//   emu_cpu_pct      with --pid: the emulator's CPU over the same window
const fs = require('fs');
const http = require('http');
const Trakt = require('trakt.tv');

function arg(name, def) {
    const i = process.argv.indexOf(name);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const url = arg('--url');
const flows = parseInt(arg('--flows', '100'), 10);
const clientId = arg('--client-id', 'bench-id');
const clientSecret = arg('--client-secret', 'bench-secret');
const instancePerFlow = process.argv.includes('--instance-per-flow');
const emulatorPid = parseInt(arg('--pid', '0'), 10);
const codeBatch = 50;
if (!url || !(flows > 0)) {
    console.error('usage: node --expose-gc flows.js --url URL --flows N [--instance-per-flow]');
    process.exit(2);
}

// /stats on a connection of its own, so the package's pool is not touched.
function stats() {
    return new Promise((resolve, reject) => {
        http.get(`${url}/stats`, { agent: false }, res => {
            let body = '';
            res.on('data', d => { body += d; });
            res.on('end', () => { try { resolve(JSON.parse(body)); } catch (e) { reject(e); } });
        }).on('error', reject);
    });
}

// CPU seconds of the emulator (utime + stime at the usual 100 ticks a second).
function emulatorCpu() {
    if (!(emulatorPid > 0)) return 0;
    const stat = fs.readFileSync(`/proc/${emulatorPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
}

function gc() {
    if (global.gc) { global.gc(); global.gc(); }
}

function newTrakt() {
    return new Trakt({
        client_id: clientId,
        client_secret: clientSecret,
        api_url: url,
        useragent: 'tda-bench-trakt-npm/1'
    });
}

async function main() {
    const shared = newTrakt();
    // Codes first, through the package itself, a batch at a time.
    const codes = [];
    while (codes.length < flows) {
        const n = Math.min(codeBatch, flows - codes.length);
        const batch = [];
        for (let i = 0; i < n; i++) batch.push(shared.get_codes());
        codes.push(...await Promise.all(batch));
    }
    // Our bookkeeping, allocated before the first snapshot.
    const records = codes.map(code => ({ code, begin: 0, polls: 0, instance: null }));
    const byCode = new Map(records.map(r => [r.code.device_code, r]));
    const maxPolls = flows * 16;
    const late = new Float64Array(maxPolls);
    let polls = 0;
    const interval = codes[0].interval * 1000;
    if (instancePerFlow) records.forEach(r => { r.instance = newTrakt(); });
    // Note each poll as the package hands it to got; then do what it does.
    const instances = instancePerFlow ? records.map(r => r.instance) : [shared];
    for (const t of instances) {
        const original = t._device_code.bind(t);
        t._device_code = (body, type) => {
            if (type === 'token') {
                const r = byCode.get(body.code);
                const now = performance.now();
                r.polls++;
                if (polls < maxPolls) late[polls] = now - (r.begin + r.polls * interval);
                polls++;
            }
            return original(body, type);
        };
    }
    // Close the connections get_codes left in the pool, so that the
    // connection count is the polls' own.
    http.globalAgent.destroy();
    const before = await stats();

    gc();
    const mem0 = process.memoryUsage();
    const cpu0 = process.cpuUsage();
    const emu0 = emulatorCpu();
    const t0 = performance.now();
    const outcomes = { tokens: 0, expired: 0, rejected_429: 0, rejected_other: 0 };
    const otherReasons = new Map();
    const promises = records.map(r => {
        r.begin = performance.now();
        return (r.instance || shared).poll_access(r.code).then(() => { outcomes.tokens++; }, err => {
            const status = err && err.response && err.response.statusCode;
            if (err && err.message === 'Expired') outcomes.expired++;
            else if (status === 429) outcomes.rejected_429++;
            else {
                outcomes.rejected_other++;
                const why = status ? `HTTP ${status}` : (err && (err.code || err.message)) || 'unknown';
                otherReasons.set(why, (otherReasons.get(why) || 0) + 1);
            }
        });
    });
    const added = performance.now();
    const mem1 = process.memoryUsage();
    if (polls > 0 || added - t0 > interval) {
        console.error(`flows.js: adding took ${(added - t0).toFixed(0)} ms and ${polls} poll(s) ` +
                      'went out meanwhile: the memory figure includes them');
    }
    await Promise.all(promises);
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const emu1 = emulatorCpu();
    const after = await stats();

    const cpuS = (cpu.user + cpu.system) / 1e6;
    const n = Math.min(polls, maxPolls);
    const sorted = Array.from(late.subarray(0, n)).sort((a, b) => a - b);
    const pct = p => n ? sorted[Math.min(n, Math.max(1, Math.ceil(p / 100 * n))) - 1] : 0;
    const fields = {
        flows,
        polls,
        seconds: ((t1 - t0) / 1000).toFixed(3),
        polls_per_s: (polls / ((t1 - t0) / 1000)).toFixed(1),
        cpu_s: cpuS.toFixed(3),
        cpu_us_per_poll: polls ? (cpuS * 1e6 / polls).toFixed(1) : 0,
        rss_per_flow: ((mem1.rss - mem0.rss) / flows).toFixed(0),
        heap_per_flow: ((mem1.heapUsed - mem0.heapUsed) / flows).toFixed(0),
        late_p50_ms: pct(50).toFixed(1),
        late_p99_ms: pct(99).toFixed(1),
        late_max_ms: (n ? sorted[n - 1] : 0).toFixed(1),
        tokens: outcomes.tokens,
        expired: outcomes.expired,
        rejected_429: outcomes.rejected_429,
        rejected_other: outcomes.rejected_other,
        early_polls: after.early_polls - before.early_polls,
        emu_polls: after.polls - before.polls,
        // The second /stats request opened a connection of its own.
        connections: after.connections - before.connections - 1,
        emu_cpu_pct: (100 * (emu1 - emu0) / ((t1 - t0) / 1000)).toFixed(1)
    };
    console.log(Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' '));
    for (const [why, count] of otherReasons) console.error(`flows.js: ${count} flow(s) failed: ${why}`);
}

main().catch(err => { console.error(err); process.exit(1); });

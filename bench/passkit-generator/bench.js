#!/usr/bin/env node
// Times passkit-generator building signed store cards, for `loyalpass bench`.
//
//   node bench.js --model DIR --wwdr WWDR.pem --cert PASS.pem --key PASS.key
//                 [--count 200] [--workers N] [--out SAMPLE.pkpass] [--json]
//
// DIR holds the pass as loyalpass renders it, unzipped without manifest.json
// and signature: pass.json, the images and the xx.lproj/pass.strings files.
// Every pass is built from those buffers with its own serial number
// ("bench-<i>", as loyalpass numbers its benchmark cards), signed with the
// given certificates and zipped: PKPass's constructor, then getAsBuffer(),
// the in-memory path a server takes. The files are read once, as loyalpass
// keeps its images in memory.
//
// The passes are spread over --workers worker threads (default: one per
// core), so passkit-generator gets the same cores as the Go renderer. The
// result is one line: passes per second and CPU time per pass over the timed
// part only (module loading and worker start-up excluded); with --json, a
// JSON object instead.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { Worker, isMainThread, parentPort, workerData } = require("node:worker_threads");

if (isMainThread) {
	main().catch((err) => {
		console.error(`bench.js: ${err && err.stack ? err.stack : err}`);
		process.exit(1);
	});
} else {
	workerMain();
}

function usage(msg) {
	console.error(`bench.js: ${msg}`);
	console.error("usage: node bench.js --model DIR --wwdr PEM --cert PEM --key PEM [--count N] [--workers N] [--out FILE] [--json]");
	process.exit(2);
}

function parseArgs(argv) {
	const opts = { count: 200, workers: 0, json: false };
	for (let i = 0; i < argv.length; i++) {
		const name = argv[i];
		const value = () => {
			if (i + 1 >= argv.length) usage(`${name} needs a value`);
			return argv[++i];
		};
		switch (name) {
			case "--model": opts.model = value(); break;
			case "--wwdr": opts.wwdr = value(); break;
			case "--cert": opts.cert = value(); break;
			case "--key": opts.key = value(); break;
			case "--out": opts.out = value(); break;
			case "--count": opts.count = Number(value()); break;
			case "--workers": opts.workers = Number(value()); break;
			case "--json": opts.json = true; break;
			default: usage(`unknown argument ${name}`);
		}
	}
	for (const k of ["model", "wwdr", "cert", "key"]) {
		if (!opts[k]) usage(`--${k} is required`);
	}
	if (!Number.isInteger(opts.count) || opts.count < 1) usage("--count must be a positive integer");
	if (!Number.isInteger(opts.workers) || opts.workers < 0) usage("--workers must be a whole number");
	if (opts.workers === 0) {
		opts.workers = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
	}
	opts.workers = Math.min(opts.workers, opts.count);
	return opts;
}

// readModel returns every file under dir by its slash-separated path.
function readModel(dir, prefix = "", out = {}) {
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const rel = prefix + entry.name;
		if (entry.isDirectory()) {
			readModel(path.join(dir, entry.name), rel + "/", out);
		} else {
			out[rel] = fs.readFileSync(path.join(dir, entry.name));
		}
	}
	return out;
}

function loadInputs(opts) {
	return {
		model: readModel(opts.model),
		certificates: {
			wwdr: fs.readFileSync(opts.wwdr, "utf8"),
			signerCert: fs.readFileSync(opts.cert, "utf8"),
			signerKey: fs.readFileSync(opts.key, "utf8"),
		},
	};
}

// buildPass builds and signs the i-th pass and returns the .pkpass bytes.
function buildPass(PKPass, inputs, i) {
	const pass = new PKPass(inputs.model, inputs.certificates, { serialNumber: `bench-${i}` });
	return pass.getAsBuffer();
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const { PKPass } = require("passkit-generator");
	// The package's exports map hides its package.json from require().
	const pkg = path.join(__dirname, "node_modules", "passkit-generator", "package.json");
	const { version } = JSON.parse(fs.readFileSync(pkg, "utf8"));
	const inputs = loadInputs(opts);

	// The sample is card 0, the one loyalpass compares its own pass with.
	const sample = buildPass(PKPass, inputs, 0);
	if (opts.out) fs.writeFileSync(opts.out, sample);

	// Worker i builds passes i, i+workers, i+2·workers, …
	const workers = [];
	for (let w = 0; w < opts.workers; w++) {
		workers.push(startWorker({ opts, index: w }));
	}
	await Promise.all(workers.map((w) => w.ready));

	const cpu0 = process.cpuUsage();
	const t0 = process.hrtime.bigint();
	workers.forEach((w) => w.worker.postMessage("go"));
	const results = await Promise.all(workers.map((w) => w.done));
	const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
	const cpu = process.cpuUsage(cpu0);
	await Promise.all(workers.map((w) => w.worker.terminate()));

	const durations = results.flatMap((r) => r.durations).sort((a, b) => a - b);
	const passes = durations.length;
	const bytes = results.reduce((n, r) => n + r.bytes, 0);
	const out = {
		passkit_generator: version,
		node: process.version,
		workers: opts.workers,
		passes,
		seconds: elapsed,
		passes_per_sec: passes / elapsed,
		cpu_seconds: (cpu.user + cpu.system) / 1e6,
		cpu_ms_per_pass: (cpu.user + cpu.system) / 1e3 / passes,
		p50_ms: durations[Math.floor(passes / 2)],
		p99_ms: durations[Math.floor((passes * 99) / 100)],
		avg_bytes: Math.round(bytes / passes),
		sample_bytes: sample.length,
	};
	if (opts.json) {
		console.log(JSON.stringify(out));
		return;
	}
	console.log(
		`passkit-generator ${version} on node ${process.version}: ${passes} passes in ${elapsed.toFixed(2)} s ` +
			`with ${opts.workers} workers: ${out.passes_per_sec.toFixed(1)} passes/s, ` +
			`${out.cpu_ms_per_pass.toFixed(2)} ms CPU per pass, p50 ${out.p50_ms.toFixed(2)} ms, p99 ${out.p99_ms.toFixed(2)} ms`,
	);
}

// startWorker starts a worker thread and returns it with promises for
// "loaded and warmed up" and "finished".
function startWorker(data) {
	const worker = new Worker(__filename, { workerData: data });
	let onReady, onDone, onError;
	const ready = new Promise((resolve, reject) => { onReady = resolve; onError = reject; });
	const done = new Promise((resolve, reject) => {
		onDone = resolve;
		worker.on("error", (err) => { onError(err); reject(err); });
		worker.on("exit", (code) => {
			if (code !== 0) {
				const err = new Error(`worker ${data.index} exited with code ${code}`);
				onError(err);
				reject(err);
			}
		});
	});
	worker.on("message", (msg) => {
		if (msg.type === "ready") onReady();
		if (msg.type === "done") onDone(msg);
	});
	// Rejections are reported through Promise.all; keep them from being
	// flagged as unhandled in the meantime.
	ready.catch(() => {});
	done.catch(() => {});
	return { worker, ready, done };
}

function workerMain() {
	const { opts, index } = workerData;
	const { PKPass } = require("passkit-generator");
	const inputs = loadInputs(opts);
	buildPass(PKPass, inputs, index); // untimed, as loyalpass renders one first
	parentPort.once("message", () => {
		const durations = [];
		let bytes = 0;
		for (let i = index; i < opts.count; i += opts.workers) {
			const t0 = process.hrtime.bigint();
			const buf = buildPass(PKPass, inputs, i);
			durations.push(Number(process.hrtime.bigint() - t0) / 1e6);
			bytes += buf.length;
		}
		parentPort.postMessage({ type: "done", durations, bytes });
	});
	parentPort.postMessage({ type: "ready" });
}

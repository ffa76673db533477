// Runs the jsii kernel in this process, instead of behind jsii's relay process. constructs_lib/aws.py copies this
// file into bin/ beside the kernel files it extracts from Python's jsii package, points JSII_RUNTIME at it and
// adds --preserve-symlinks to NODE_OPTIONS; CDKTF_AWS_JSII_RELAY=1 (or either switch of the lazy loading) leaves
// jsii as it is.
//
// Why: bin/jsii-runtime.js, which Python's jsii starts, only spawns a second node for lib/program.js (the
// kernel) and relays: Python's pipes to and from the kernel's fd 3 (a socket pair), and the kernel's console
// output as JSON lines ({"stdout"|"stderr": base64}) on its own stderr. That second node costs about 45 MB and
// a start, and every message of a synth crosses it twice. Here the kernel reads fd 0 and writes fd 1 where it
// asks for fd 3, and console output is wrapped as the relay wraps it, so Python reads the same bytes.
//
// What it assumes, checked before anything changes (else it runs jsii's relay: the normal behaviour):
// - lib/program.js opens its channel once, as `readFD:3,writeFD:3`, and uses it through fs.readSync and
//   fs.writeSync, patched here for fd 3 only;
// - fd 3 of this process is already held by node itself (libuv's event poll), so no file opened later is fd 3;
// - the kernel symlinks cached packages when process.execArgv has --preserve-symlinks (the relay passes it to
//   the kernel's node); NODE_OPTIONS gives node the flag, and it is added to execArgv for the kernel's check.
// The relay gave the kernel /dev/null as stdin: here process.stdin is an ended stream, so nothing opens fd 0 (which
// would make it non-blocking under the kernel's reads). Uncaught errors are printed wrapped, as the relay would.
// Known limits, none used by cdktf or the provider: output written to fd 1 other than through fs.writeSync,
// process.stdout or console (fs.write, fs.writeFileSync(1), a child with inherited stdio) reaches Python's reply
// pipe unwrapped; node's own fatal errors reach stderr unwrapped (Python then prints them as b'...' lines).
// jsii's Node version banners come from its relay, so they do not appear.
//
// CDKTF_AWS_KERNEL_CHECK=1: print "in-process" or "relay: <why>", and exit (doctor, tests).
"use strict";
const fs = require("fs");
const path = require("path");
const { Readable, Writable } = require("stream");
const util = require("util");

const CHANNEL = 3;
const CHANNEL_OPTIONS = `readFD:${CHANNEL},writeFD:${CHANNEL}`;
const SYMLINKS = "--preserve-symlinks";
const SYMLINKS_CHECK = `process.execArgv.includes("${SYMLINKS}")`;
const PROGRAM = path.join(__dirname, "..", "lib", "program.js");
const RELAY = path.join(__dirname, "jsii-runtime.js");

function heldByNode(fd) {
  try {
    const stat = fs.fstatSync(fd);
    return ![stat.isFile(), stat.isDirectory(), stat.isFIFO(), stat.isSocket(), stat.isCharacterDevice(),
      stat.isBlockDevice(), stat.isSymbolicLink()].some(Boolean);
  } catch {
    return false;
  }
}

function whyNot() {
  let source;
  try {
    source = fs.readFileSync(PROGRAM, "utf-8");
  } catch {
    return `cannot read ${PROGRAM}`;
  }
  if (source.split(CHANNEL_OPTIONS).length !== 2) {
    return `the kernel does not open its channel once as ${CHANNEL_OPTIONS}`;
  }
  if (!source.includes(SYMLINKS_CHECK)) return `the kernel does not check ${SYMLINKS} as expected`;
  const options = (process.env.NODE_OPTIONS || "").split(/\s+/);
  if (!process.execArgv.includes(SYMLINKS) && !options.includes(SYMLINKS)) return `node runs without ${SYMLINKS}`;
  if (!heldByNode(CHANNEL)) return `fd ${CHANNEL} is not node's own`;
  return null;
}

const writeSync = fs.writeSync;

// What the kernel itself does between two tries of a write that got EAGAIN.
function pause() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

function writeAll(fd, bytes) {
  for (let at = 0; at < bytes.length;) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
      pause();
    }
  }
}

// As the relay does with the kernel's stdout and stderr: one JSON line on stderr per chunk, which Python decodes.
function relayed(key, bytes) {
  writeAll(2, Buffer.from(JSON.stringify({ [key]: bytes.toString("base64") }) + "\n"));
}

// The bytes of an fs.writeSync(fd, buffer[, offset[, length]]), fs.writeSync(fd, buffer, {offset, length}) or
// fs.writeSync(fd, string[, position[, encoding]]).
function bytesOf(data, offset, length, encoding) {
  if (typeof data === "string") return Buffer.from(data, typeof length === "string" ? length : encoding);
  if (offset !== null && typeof offset === "object") ({ offset, length } = offset);
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const start = offset || 0;
  return view.subarray(start, length === undefined || length === null ? view.length : start + length);
}

function consoleStream(key, fd) {
  const stream = new Writable({
    write(chunk, encoding, done) {
      relayed(key, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
      done();
    },
  });
  stream.fd = fd;
  return stream;
}

function runInProcess() {
  const readSync = fs.readSync;
  fs.readSync = function (fd, ...rest) {
    if (fd !== CHANNEL) return readSync.call(this, fd, ...rest);
    for (;;) {
      try {
        return readSync.call(this, 0, ...rest);
      } catch (error) {  // fd 0 made non-blocking all the same (by a preload): wait, as the kernel does for writes
        if (error.code !== "EAGAIN") throw error;
        pause();
      }
    }
  };
  fs.writeSync = function (fd, data, ...rest) {
    if (fd === CHANNEL) return writeSync.call(this, 1, data, ...rest);
    if (fd !== 1 && fd !== 2) return writeSync.call(this, fd, data, ...rest);
    const bytes = bytesOf(data, ...rest);  // fd 1 is the channel now: anything else written there is console
    relayed(fd === 1 ? "stdout" : "stderr", bytes);
    return bytes.length;
  };
  for (const [key, fd] of [["stdout", 1], ["stderr", 2]]) {
    const stream = consoleStream(key, fd);
    Object.defineProperty(process, key, { configurable: true, enumerable: true, get: () => stream });
  }
  const stdin = new Readable({ read() {} });
  stdin.push(null);
  stdin.fd = 0;
  Object.defineProperty(process, "stdin", { configurable: true, enumerable: true, get: () => stdin });
  for (const event of ["uncaughtException", "unhandledRejection"]) {
    process.on(event, (error) => {
      relayed("stderr", Buffer.from(`${util.inspect(error)}\n`));
      process.exit(1);
    });
  }
  if (!process.execArgv.includes(SYMLINKS)) process.execArgv.push(SYMLINKS);
  require(PROGRAM);
}

const reason = whyNot();
if (process.env.CDKTF_AWS_KERNEL_CHECK) {
  process.stdout.write(reason === null ? "in-process\n" : `relay: ${reason}\n`);
} else if (reason === null) {
  runInProcess();
} else {
  require(RELAY);
}

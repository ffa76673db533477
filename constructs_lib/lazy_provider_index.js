// Node side of the lazy provider loading (constructs_lib/aws.py puts it in NODE_OPTIONS as --require before the
// jsii kernel starts; CDKTF_AWS_EAGER_IMPORT=1 leaves it out).
//
// Why: the index of @cdktf/provider-aws (lib/index.js) runs `exports.x = require("./x")` once for each of the
// ~2,135 resources and data sources of AWS when the kernel first loads the package: about 1.6 s and 400 MB,
// for the ~45 modules this app uses. Here each of those lines becomes a getter that requires its module on
// first use, so the exports are the same objects, loaded only when asked for.
//
// What it assumes: that index, and only it, made of a header (use strict, comments, the __esModule marker,
// `exports.a = exports.b = ... = void 0;` lines) and those require lines, with // comments anywhere. Any
// other file, or any other line in it, is compiled as it is: the normal behaviour.
//
// Second, the type definitions. The jsii kernel (1.142 and later) reads a package's types from
// `.jsii.runtime-defs.v1.jsonl`, one JSON record per type at byte ranges its index gives, and it reads the whole
// file into memory on the first type it needs: 33 MB for the provider, of which this app needs a few hundred
// records. Here a `fs.readFileSync(<that file>)` with no options returns a stand-in whose
// `toString("utf-8", start, end)` reads just that range from disk; any other use of it reads the whole file once
// and behaves as the real Buffer, so a kernel that reads the file differently gets the normal behaviour.
//
// CDKTF_AWS_LAZY_REPORT=<file>: keep {"lazy": bool, "loaded": [names], "defs": {file: "by range" or "whole"}}
// there (tests, doctor, benchmark).
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

const INDEX = path.join("@cdktf", "provider-aws", "lib", "index.js");
const REQUIRE_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/;
const HEADER_LINE = /^("use strict";|\/\*\*|\s\*.*|\s\*\/|Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);|exports\.[\w$]+ = (exports\.[\w$]+ = )*void 0;|\/\/.*|)$/;

const REPORT = process.env.CDKTF_AWS_LAZY_REPORT;
const report = { lazy: false, loaded: [], defs: {} };
// Written as it changes: the jsii kernel is ended by a signal, so an exit handler would never run.
const save = () => REPORT && fs.writeFileSync(REPORT, JSON.stringify(report));

function lazyIndex(source) {
  const lines = source.split("\n");
  const out = [];
  let exportsSeen = 0;
  for (const line of lines) {
    const match = REQUIRE_LINE.exec(line);
    if (match) {
      const [, name, file] = match;
      exportsSeen += 1;
      out.push(`Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, configurable: true, ` +
        `get() { const m = require(${JSON.stringify(file)}); module.__lazyLoaded(${JSON.stringify(name)}); ` +
        `Object.defineProperty(exports, ${JSON.stringify(name)}, { value: m, enumerable: true, writable: true, ` +
        `configurable: true }); return m; } });`);
    } else if (HEADER_LINE.test(line)) {
      out.push(line);
    } else {
      return null; // a shape we do not know: leave the file alone
    }
  }
  return exportsSeen > 0 ? out.join("\n") : null;
}

const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (filename.endsWith(path.sep + INDEX)) {
    const lazy = lazyIndex(content);
    if (lazy !== null) {
      report.lazy = true;
      save();
      this.__lazyLoaded = (name) => { report.loaded.push(name); save(); };
      return compile.call(this, lazy, filename);
    }
  }
  return compile.call(this, content, filename);
};

const DEFS = ".jsii.runtime-defs.v1.jsonl";
const UTF8 = new Set(["utf-8", "utf8"]);
const readFileSync = fs.readFileSync;

function readRange(file, start, end) {
  const bytes = Buffer.allocUnsafe(end - start);
  const fd = fs.openSync(file, "r");
  try {
    let done = 0;
    while (done < bytes.length) {
      const read = fs.readSync(fd, bytes, done, bytes.length - done, start + done);
      if (read === 0) return null; // shorter than the index says: let the real Buffer answer
      done += read;
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

function lazyDefs(file) {
  let whole = null;
  const real = () => {
    if (whole === null) {
      whole = readFileSync(file);
      report.defs[file] = "whole";
      save();
    }
    return whole;
  };
  const toString = (encoding, start, end) => {
    if (whole === null && UTF8.has(encoding) && Number.isSafeInteger(start) && Number.isSafeInteger(end) &&
        start >= 0 && end >= start) {
      const bytes = readRange(file, start, end);
      if (bytes !== null) return bytes.toString("utf-8");
    }
    return real().toString(encoding, start, end);
  };
  const forward = (name) => {
    const value = Reflect.get(real(), name);
    return typeof value === "function" ? value.bind(real()) : value;
  };
  report.defs[file] = "by range";
  save();
  return new Proxy({}, {
    get: (_target, name) => (name === "toString" ? toString : forward(name)),
    has: (_target, name) => name in real(),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_target, name) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), name);
      return descriptor && { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Buffer.prototype,
  });
}

fs.readFileSync = function (file, options) {
  if (arguments.length === 1 && typeof file === "string" && path.basename(file) === DEFS) return lazyDefs(file);
  return readFileSync.apply(this, arguments);
};

save();

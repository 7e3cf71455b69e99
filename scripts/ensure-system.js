#!/usr/bin/env node
// `npm test` and `npm run demo` run this first (pretest, predemo): it makes sure the
// system programs they drive are there, installing Debian's packages when it can, and
// otherwise stops with what to do. No browser or server is ever downloaded from elsewhere.
//
//   node scripts/ensure-system.js chromium nats-server ip
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** What each name needs: where to look, and the Debian package that provides it. */
const programs = {
  chromium: { env: "CHROMIUM", paths: ["/usr/bin/chromium"], names: ["chromium"], pkg: "chromium", for: "the browser tests" },
  // Debian installs the NATS server under /usr/sbin, which is often not on PATH.
  "nats-server": { env: "NATS_SERVER", paths: ["/usr/sbin/nats-server", "/usr/bin/nats-server"], names: ["nats-server"], pkg: "nats-server", for: "the RPC tests and demo over NATS" },
  // iproute2's ip, for the test that cuts a worker's network namespace off; also under /usr/sbin.
  ip: { env: "IP_COMMAND", paths: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"], names: ["ip"], pkg: "iproute2", for: "the RPC test over NATS that cuts a worker's network" },
};

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The program's path, or undefined when it is not installed. */
export function find(name) {
  const p = programs[name];
  const override = process.env[p.env];
  if (override !== undefined && override !== "") return executable(override) ? override : undefined;
  const onPath = (process.env.PATH ?? "").split(delimiter).filter(Boolean).flatMap((dir) => p.names.map((n) => join(dir, n)));
  return [...p.paths, ...onPath].find(executable);
}

function fail(lines) {
  console.error(["", ...lines, ""].join("\n"));
  process.exit(1);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in programs));
if (unknown.length > 0) fail([`ensure-system: unknown program(s) ${unknown.join(", ")}; known: ${Object.keys(programs).join(", ")}.`]);

const badOverride = wanted.filter((n) => (process.env[programs[n].env] ?? "") !== "" && find(n) === undefined);
if (badOverride.length > 0) {
  fail(badOverride.map((n) => `ensure-system: ${programs[n].env}=${process.env[programs[n].env]} is not an executable file; unset it or point it at ${n}.`));
}
const missing = wanted.filter((n) => find(n) === undefined);
if (missing.length > 0) {
  const pkgs = missing.map((n) => programs[n].pkg);
  const why = missing.map((n) => `${n} (for ${programs[n].for})`).join(", ");
  const canApt = process.platform === "linux" && executable("/usr/bin/apt-get") && process.getuid?.() === 0;
  if (!canApt) {
    fail([
      `torch-futures needs ${why}, and it is not installed.`,
      process.platform === "linux" && executable("/usr/bin/apt-get")
        ? `Install it as root: apt-get update && apt-get install -y ${pkgs.join(" ")}`
        : `Install ${pkgs.join(" ")} with your system's package manager, or point ${missing.map((n) => programs[n].env).join("/")} at the binary.`,
    ]);
  }
  console.log(`ensure-system: installing ${pkgs.join(" ")} with apt-get: torch-futures needs ${why}`);
  // Another apt may hold the lock (a machine's start-up upgrade): wait for it rather than fail.
  const apt = (args) =>
    spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=600", ...args], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  const ok = apt(["update", "-q"]) && apt(["install", "-y", "-q", ...pkgs]);
  const still = missing.filter((n) => find(n) === undefined);
  if (!ok || still.length > 0) {
    fail([
      `ensure-system: could not install ${still.map((n) => programs[n].pkg).join(" ") || pkgs.join(" ")} with apt-get.`,
      `Install it by hand (apt-get install -y ${pkgs.join(" ")}) and run the command again.`,
    ]);
  }
}
for (const n of wanted) console.log(`ensure-system: ${n} at ${find(n)}`);

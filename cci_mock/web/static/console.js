// cci-mock console: plain script, no dependencies, no build step.
// Reads the admin API (/_mock/*, with X-Admin-Token when the mock has one) and the API
// itself (with the token /_mock/info names). Nothing here is cached or stored but the
// admin token, in this tab's sessionStorage.
"use strict";

const $ = (selector) => document.querySelector(selector);
const state = {
  token: "", kinds: [], kind: null, namespace: "", rows: new Map(), watch: null,
  selected: null, requests: [], ops: [], op: null,
};

// -- talking to the mock ----------------------------------------------------------------

function adminHeaders(extra) {
  const token = sessionStorage.getItem("cci-mock-admin-token");
  return Object.assign(token ? {"X-Admin-Token": token} : {}, extra || {});
}

async function admin(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = adminHeaders(opts.headers);
  const response = await fetch(path, opts);
  if (response.status === 401) {
    await askToken();
    return admin(path, options);
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

function askToken() {
  return new Promise((resolve) => {
    const dialog = $("#token-dialog");
    dialog.addEventListener("close", () => {
      sessionStorage.setItem("cci-mock-admin-token", $("#admin-token").value);
      resolve();
    }, {once: true});
    if (!dialog.open) dialog.showModal();
  });
}

function api(path, options, background) {
  const opts = Object.assign({}, options || {});
  opts.headers = Object.assign({"X-Auth-Token": state.token}, opts.headers || {});
  if (background !== false) opts.headers["X-CCI-Mock-Console"] = "background";  // not journaled
  return fetch(path, opts);
}

function say(text, isError) {
  const status = $("#status");
  status.textContent = text;
  status.className = "status" + (isError ? " error" : "");
}

// -- YAML for the eye (JSON in, block YAML out) -------------------------------------------

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9_./ -]*$/;
const SPECIAL = /^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i;

function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value !== "string") return String(value);
  if (PLAIN.test(value) && !SPECIAL.test(value) && !value.endsWith(" ")) return value;
  return JSON.stringify(value);
}

function yaml(value, indent) {
  indent = indent || "";
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return value.map((item) => {
      const inner = yaml(item, indent + "  ");
      return indent + "- " + (isBlock(item) ? inner.trimStart() : inner);
    }).join("\n");
  }
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) return "{}";
    return keys.map((key) => {
      const item = value[key];
      const name = indent + scalar(key) + ":";
      if (isBlock(item)) return name + "\n" + yaml(item, Array.isArray(item) ? indent : indent + "  ");
      return name + " " + yaml(item, indent + "  ");
    }).join("\n");
  }
  return scalar(value);
}

function isBlock(value) {
  return value && typeof value === "object" && Object.keys(value).length > 0;
}

// -- header: version, clock, reset, export ------------------------------------------------

function showClock(clock) {
  $("#clock-now").textContent = clock.now;
  const offset = clock.offsetSeconds;
  $("#clock-offset").textContent = (offset ? `(+${offset} s)` : "") +
    (clock.scale !== 1 ? ` ×${clock.scale}` : "") + ` lifecycle ${clock.lifecycle}`;
}

async function refreshClock() {
  showClock(await admin("/_mock/clock"));
}

async function advance() {
  const seconds = Number($("#advance-seconds").value || 0);
  showClock(await admin("/_mock/clock/advance", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({seconds})}));
  say(`advanced ${seconds} s`);
  await refreshKinds();
}

async function reset() {
  if (!confirm("Reset the mock to its start?")) return;
  await admin("/_mock/reset", {method: "POST"});
  say("state reset");
  await Promise.all([refreshClock(), refreshNamespaces()]);
  await refreshKinds();
  if (state.kind) await openKind(state.kind);
}

async function exportState() {
  const document_ = await admin("/_mock/state?pretty=true");
  const blob = new Blob([JSON.stringify(document_, null, 2)], {type: "application/json"});
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "cci-mock-state.json";
  link.click();
  URL.revokeObjectURL(link.href);
  say("state exported");
}

// -- objects: namespaces, kinds, a live table, YAML -------------------------------------

async function refreshNamespaces() {
  const response = await api("/api/v1/namespaces");
  if (!response.ok) return;
  const names = (await response.json()).items.map((n) => n.metadata.name);
  const select = $("#namespace");
  const chosen = select.value;
  select.replaceChildren(new Option("all namespaces", ""), ...names.map((n) => new Option(n, n)));
  select.value = names.includes(chosen) ? chosen : "";
}

async function refreshKinds() {
  const query = state.namespace ? `?namespace=${encodeURIComponent(state.namespace)}` : "";
  state.kinds = (await admin("/_mock/kinds" + query)).kinds;
  const list = $("#kinds");
  list.replaceChildren(...state.kinds.map((kind) => {
    const item = document.createElement("li");
    item.dataset.kind = kind.kind;
    item.dataset.key = kind.key;
    const name = document.createElement("span");
    name.textContent = kind.kind;
    const group = document.createElement("small");
    group.textContent = kind.apiVersion;
    name.append(" ", group);
    item.append(name);
    item.title = kind.key;
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = kind.count;
    item.append(count);
    item.classList.toggle("active", state.kind && state.kind.key === kind.key);
    item.addEventListener("click", guard(() => openKind(kind)));
    return item;
  }));
  if (state.kind) {  // a reset or a bulk change the watch cannot tell: list again
    const current = state.kinds.find((k) => k.key === state.kind.key);
    if (current && current.count !== state.rows.size) await openKind(current);
  }
}

function collectionPath(kind, namespace) {
  if (kind.namespaced && namespace) return `${kind.prefix}/namespaces/${namespace}/${kind.plural}`;
  return `${kind.prefix}/${kind.plural}`;
}

async function openKind(kind) {
  state.kind = kind;
  if (state.watch) state.watch.abort();
  document.querySelectorAll("#kinds li").forEach((li) =>
    li.classList.toggle("active", li.dataset.kind === kind.kind));
  $("#objects-title").textContent = kind.kind + (kind.namespaced && state.namespace ?
    ` in ${state.namespace}` : "");
  const path = collectionPath(kind, kind.namespaced ? state.namespace : "");
  const response = await api(path);
  const body = await response.json();
  if (!response.ok) {
    say(body.message || response.statusText, true);
    return;
  }
  state.rows = new Map();
  body.items.forEach((obj) => state.rows.set(rowKey(obj), obj));
  renderRows();
  watch(kind, path, body.metadata.resourceVersion);
}

function rowKey(obj) {
  return `${obj.metadata.namespace || ""}/${obj.metadata.name}`;
}

function stateOf(obj) {
  const status = obj.status || {};
  if (status.phase) return status.phase;
  if (status.state) return status.state;
  const conditions = status.conditions || [];
  return conditions.length ? conditions[conditions.length - 1].type : "";
}

function renderRows() {
  const keys = [...state.rows.keys()].sort();
  $("#objects tbody").replaceChildren(...keys.map((key) => {
    const obj = state.rows.get(key);
    const row = document.createElement("tr");
    row.dataset.name = obj.metadata.name;
    for (const text of [obj.metadata.namespace || "", obj.metadata.name, stateOf(obj),
      obj.metadata.creationTimestamp || ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.classList.toggle("active", key === state.selected);
    row.addEventListener("click", () => select(key));
    return row;
  }));
  if (state.selected) showYaml(state.rows.get(state.selected));
}

function select(key) {
  state.selected = key;
  document.querySelectorAll("#objects tbody tr").forEach((row) => row.classList.remove("active"));
  renderRows();
}

function showYaml(obj) {
  $("#yaml").textContent = obj ? yaml(obj) : "deleted";
}

async function watch(kind, path, resourceVersion) {
  const controller = new AbortController();
  state.watch = controller;
  const note = $("#watch-state");
  note.textContent = `watching ${kind.plural} from resourceVersion ${resourceVersion}`;
  try {
    const response = await api(`${path}?watch=true&resourceVersion=${resourceVersion}` +
      "&timeoutSeconds=300", {signal: controller.signal});
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim()) onEvent(JSON.parse(line));
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return;
    note.textContent = `watch ended: ${error.message}`;
  }
  if (!controller.signal.aborted && state.kind === kind) guard(() => openKind(kind))();  // again
}

function onEvent(event) {
  if (event.type === "ERROR") {
    $("#watch-state").textContent = `watch error: ${event.object.message}`;
    return;
  }
  const key = rowKey(event.object);
  if (event.type === "DELETED") state.rows.delete(key);
  else state.rows.set(key, event.object);
  $("#watch-state").textContent = `live: ${event.type} ${event.object.metadata.name}`;
  renderRows();
}

// -- requests ---------------------------------------------------------------------------

async function refreshRequests() {
  state.requests = (await admin("/_mock/requests?limit=200")).requests.reverse();
  $("#requests tbody").replaceChildren(...state.requests.map((entry) => {
    const row = document.createElement("tr");
    row.dataset.seq = entry.seq;
    const cells = [entry.seq, entry.time.slice(11, 23), entry.method,
      entry.path + (Object.keys(entry.query).length ? "?" +
        new URLSearchParams(entry.query).toString() : ""),
      entry.status === null ? entry.network : entry.status, entry.fault || "", entry.duration_ms];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    if (entry.status >= 400 || entry.status === null) row.classList.add("failed");
    row.addEventListener("click", () => {
      $("#request-detail").textContent = yaml(entry);
    });
    return row;
  }));
}

async function clearRequests() {
  await admin("/_mock/requests", {method: "DELETE"});
  await refreshRequests();
}

// -- faults -----------------------------------------------------------------------------

const MATCHERS = ["method", "path", "kind", "verb", "namespace", "name", "headers"];
const FIRING = ["times", "after", "probability", "seed", "matched", "fired", "id"];

async function refreshFaults() {
  const rules = (await admin("/_mock/faults")).rules;
  $("#faults tbody").replaceChildren(...rules.map((rule) => {
    const row = document.createElement("tr");
    row.dataset.id = rule.id;
    const matches = MATCHERS.filter((k) => k in rule).map((k) => `${k}=${JSON.stringify(rule[k])}`);
    const does = Object.keys(rule).filter((k) => !MATCHERS.includes(k) && !FIRING.includes(k))
      .map((k) => `${k}=${JSON.stringify(rule[k])}`);
    if ("times" in rule) does.push(`times=${rule.times}`);
    for (const text of [rule.id, matches.join(" ") || "every request", does.join(" "),
      rule.matched, rule.fired]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.addEventListener("click", guard(async () => {
      await admin(`/_mock/faults/${encodeURIComponent(rule.id)}`, {method: "DELETE"});
      await refreshFaults();
    }));
    const cell = document.createElement("td");
    cell.append(remove);
    row.append(cell);
    return row;
  }));
}

async function addFault() {
  $("#fault-error").textContent = "";
  try {
    await admin("/_mock/faults", {method: "POST", headers: {"Content-Type": "application/json"},
      body: $("#fault-rule").value});
    say("fault rule added");
  } catch (error) {
    $("#fault-error").textContent = error.message;
  }
  await refreshFaults();
}

async function clearFaults() {
  await admin("/_mock/faults", {method: "DELETE"});
  await refreshFaults();
}

// -- API explorer ----------------------------------------------------------------------

const MERGE = "application/merge-patch+json";

function catalogOps() {
  const ops = [];
  for (const kind of state.kinds) {
    const base = kind.namespaced ? `${kind.prefix}/namespaces/{namespace}/${kind.plural}` :
      `${kind.prefix}/${kind.plural}`;
    const item = `${base}/{name}`;
    const example = kind.example;
    const patch = {metadata: {labels: {touched: "by-the-console"}}};
    const verbs = {
      list: ["GET", base, null], create: ["POST", base, example], get: ["GET", item, null],
      update: ["PUT", item, example], patch: ["PATCH", item, patch], delete: ["DELETE", item, null],
      deletecollection: ["DELETE", base, null],
    };
    for (const [verb, [method, path, body]] of Object.entries(verbs)) {
      if (!kind.verbs.includes(verb)) continue;
      ops.push({method, path, summary: `${verb} ${kind.kind}`, example: body,
        type: verb === "patch" ? MERGE : "application/json", name: example.metadata.name});
    }
  }
  return ops;
}

async function openapiOps() {
  const ops = [];
  const index = await api("/openapi/v3");
  if (!index.ok) return ops;
  for (const entry of Object.values((await index.json()).paths || {})) {
    const response = await api(entry.serverRelativeURL);
    if (!response.ok) continue;
    const document_ = await response.json();
    for (const [path, item] of Object.entries(document_.paths || {})) {
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        const op = item[method];
        if (!op) continue;
        const content = (op.requestBody || {}).content || {};
        const type = Object.keys(content)[0];  // undefined: the document does not say
        const media = content[type] || {};
        const examples = Object.values(media.examples || {}).map((e) => e.value);
        ops.push({method: method.toUpperCase(), path, type, operationId: op.operationId,
          summary: op.summary || op.description || "",
          example: media.example !== undefined ? media.example : examples[0]});
      }
    }
  }
  return ops;
}

async function loadOps() {
  const merged = new Map(catalogOps().map((op) => [`${op.method} ${op.path}`, op]));
  let documented = 0;
  try {
    for (const op of await openapiOps()) {
      const key = `${op.method} ${op.path}`;
      const known = merged.get(key) || {};
      if (op.example !== undefined) documented += 1;
      merged.set(key, Object.assign({}, known, op, {
        example: op.example !== undefined ? op.example : known.example,
        summary: op.summary || known.summary || op.operationId || "",
        type: op.type || known.type || "application/json", name: known.name,
      }));
    }
  } catch (error) {
    console.warn("OpenAPI document not usable", error);
  }
  state.ops = [...merged.values()];
  $("#ops-source").textContent = documented ?
    `${documented} documented examples from /openapi/v3` :
    "examples: the packaged sample seed (the OpenAPI document has none yet)";
  renderOps();
}

function renderOps() {
  const filter = $("#op-filter").value.toLowerCase();
  const shown = state.ops.filter((op) =>
    `${op.method} ${op.path} ${op.summary}`.toLowerCase().includes(filter));
  $("#ops").replaceChildren(...shown.map((op) => {
    const item = document.createElement("li");
    item.dataset.op = `${op.method} ${op.path}`;
    const method = document.createElement("b");
    method.className = `method ${op.method.toLowerCase()}`;
    method.textContent = op.method;
    item.append(method, ` ${op.summary}`);
    item.title = op.path;
    item.addEventListener("click", () => openOp(op));
    return item;
  }));
}

function openOp(op) {
  state.op = op;
  document.querySelectorAll("#ops li").forEach((li) =>
    li.classList.toggle("active", li.dataset.op === `${op.method} ${op.path}`));
  $("#op-title").textContent = `${op.method} ${op.path}`;
  const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  $("#op-params").replaceChildren(...params.map((param) => {
    const label = document.createElement("label");
    label.textContent = param + " ";
    const input = document.createElement("input");
    input.dataset.param = param;
    input.value = param === "namespace" ? (state.namespace || firstNamespace()) :
      param === "name" ? (op.name || "") : "";
    label.append(input);
    return label;
  }));
  const hasBody = ["POST", "PUT", "PATCH"].includes(op.method);
  $("#op-body").value = hasBody && op.example !== undefined && op.example !== null ?
    JSON.stringify(op.example, null, 2) : "";
  $("#op-body").disabled = !hasBody;
  $("#op-type").textContent = hasBody ? op.type : "";
  $("#op-send").disabled = false;
  $("#op-status").textContent = "";
  $("#op-response").textContent = "";
}

function firstNamespace() {
  const options = [...$("#namespace").options].map((o) => o.value).filter(Boolean);
  return options[0] || "default";
}

async function sendOp() {
  const op = state.op;
  let path = op.path;
  document.querySelectorAll("#op-params input").forEach((input) => {
    path = path.replace(`{${input.dataset.param}}`, encodeURIComponent(input.value));
  });
  const query = $("#op-query").value.trim();
  const options = {method: op.method};
  if (!$("#op-body").disabled && $("#op-body").value.trim()) {
    options.body = $("#op-body").value;
    options.headers = {"Content-Type": op.type};
  }
  const response = await api(path + (query ? `?${query}` : ""), options, false);  // journaled
  const text = await response.text();
  $("#op-status").textContent = `${response.status} ${response.statusText}`;
  $("#op-status").className = response.ok ? "ok" : "error";
  try {
    $("#op-response").textContent = JSON.stringify(JSON.parse(text), null, 2);
  } catch (error) {
    $("#op-response").textContent = text;
  }
}

// -- start --------------------------------------------------------------------------------

function showPanel(name) {
  document.querySelectorAll(".tab").forEach((tab) =>
    tab.classList.toggle("active", tab.dataset.panel === name));
  document.querySelectorAll(".panel").forEach((panel) => {
    panel.hidden = panel.id !== `panel-${name}`;
  });
  if (name === "requests") guard(refreshRequests)();
  if (name === "faults") guard(refreshFaults)();
  if (name === "explorer" && !state.ops.length) guard(loadOps)();
}

function guard(action) {
  return () => action().catch((error) => say(error.message, true));
}

async function tick() {
  await refreshClock();
  await refreshKinds();
  if (!$("#panel-requests").hidden && $("#requests-auto").checked) await refreshRequests();
  if (!$("#panel-faults").hidden) await refreshFaults();
}

async function start() {
  const info = await admin("/_mock/info");
  state.token = info.token;
  $("#version").textContent = info.version;
  showClock(info.clock);
  document.querySelectorAll(".tab").forEach((tab) =>
    tab.addEventListener("click", () => showPanel(tab.dataset.panel)));
  $("#advance").addEventListener("click", guard(advance));
  $("#reset").addEventListener("click", guard(reset));
  $("#export").addEventListener("click", guard(exportState));
  $("#namespace").addEventListener("change", guard(async () => {
    state.namespace = $("#namespace").value;
    await refreshKinds();
    if (state.kind) await openKind(state.kinds.find((k) => k.key === state.kind.key));
  }));
  $("#requests-refresh").addEventListener("click", guard(refreshRequests));
  $("#requests-clear").addEventListener("click", guard(clearRequests));
  $("#fault-add").addEventListener("click", guard(addFault));
  $("#faults-clear").addEventListener("click", guard(clearFaults));
  $("#op-filter").addEventListener("input", renderOps);
  $("#op-send").addEventListener("click", guard(sendOp));
  await refreshNamespaces();
  await refreshKinds();
  const first = state.kinds.find((k) => k.count > 0 && k.namespaced) || state.kinds[0];
  if (first) await openKind(first);
  document.body.dataset.ready = "true";
  setInterval(() => tick().catch((error) => say(error.message, true)), 2000);
}

start().catch((error) => say(error.message, true));

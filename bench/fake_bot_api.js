// A minimal fake Bot API for benchmarks: answers getMe and sendMessage like Telegram (Zalo's
// sendMessage takes the same JSON and reads the same message_id), counts deliveries, and is fast
// enough (Node's http) that it never limits the figure measured.
// Usage: node bench/fake_bot_api.js [LATENCY_MS]  → prints "READY <port>".
// LATENCY_MS (default 0) delays every answer, as the round trip to the real API does.
// GET /count → {sent, first, last, minChatGap}: messages received, the times (ms) of the first
// and last, and the shortest interval between two messages to one chat (null if none repeats).
// getUpdates serves each token's queue like Telegram (offset confirms, limit, a long poll held
// until updates come); POST /enqueue/TOKEN adds a JSON list of updates to it, and
// GET /wait/TOKEN/N answers once N messages in all were sent with that token.
"use strict";
const http = require("http");

const latency = Number(process.argv[2] || 0);
let sent = 0;
let nextId = 1;
let first = null;
let last = null;
let minChatGap = null;
const lastByChat = new Map();
const queues = new Map(); // token → {updates, polls: held getUpdates, sent, waits}
function tokenState(token) {
  if (!queues.has(token)) queues.set(token, { updates: [], polls: [], sent: 0, waits: [] });
  return queues.get(token);
}

function serveUpdates(state, poll) {
  const { res, offset, limit } = poll;
  if (offset !== undefined) state.updates = state.updates.filter((u) => u.update_id >= offset);
  reply(res, { ok: true, result: state.updates.slice(0, limit) });
}

function getUpdates(token, res, p) {
  const state = tokenState(token);
  const poll = {
    res, offset: p.offset === undefined ? undefined : Number(p.offset), limit: Number(p.limit || 100),
  };
  if (poll.offset !== undefined) state.updates = state.updates.filter((u) => u.update_id >= poll.offset);
  const hold = Number(p.timeout || 0);
  if (state.updates.length > 0 || hold <= 0) return serveUpdates(state, poll);
  poll.timer = setTimeout(() => {
    state.polls = state.polls.filter((q) => q !== poll);
    serveUpdates(state, poll);
  }, hold * 1000);
  state.polls.push(poll);
}

function enqueue(token, updates) {
  const state = tokenState(token);
  state.updates.push(...updates);
  for (const poll of state.polls.splice(0)) {
    clearTimeout(poll.timer);
    serveUpdates(state, poll);
  }
}

function sentWith(token) {
  const state = tokenState(token);
  state.sent += 1;
  state.waits = state.waits.filter((w) => (state.sent >= w.count ? (reply(w.res, { sent: state.sent }), false) : true));
}

const bot = { id: 999000, is_bot: true, first_name: "dondoc", username: "dondoc_bench_bot" };

function reply(res, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function later(res, payload) {
  if (latency > 0) setTimeout(() => reply(res, payload), latency);
  else reply(res, payload);
}

function params(raw, type) {
  if (!raw) return {};
  if ((type || "").includes("json")) return JSON.parse(raw);
  return Object.fromEntries(new URLSearchParams(raw));
}

function received(chatId) {
  const now = performance.now();
  sent += 1;
  if (first === null) first = now;
  last = now;
  const previous = lastByChat.get(chatId);
  if (previous !== undefined && (minChatGap === null || now - previous < minChatGap)) {
    minChatGap = now - previous;
  }
  lastByChat.set(chatId, now);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/count") return reply(res, { sent, first, last, minChatGap });
    const parts = req.url.split("/");
    if (parts[1] === "enqueue") {
      enqueue(parts[2], JSON.parse(Buffer.concat(chunks).toString("utf8")));
      return reply(res, { ok: true });
    }
    if (parts[1] === "wait") {
      const state = tokenState(parts[2]);
      if (state.sent >= Number(parts[3])) return reply(res, { sent: state.sent });
      return state.waits.push({ res, count: Number(parts[3]) });
    }
    const method = parts.pop();
    const token = (parts[parts.length - 1] || "").replace(/^bot/, "");
    if (method === "getMe") return reply(res, { ok: true, result: bot });
    const p = params(Buffer.concat(chunks).toString("utf8"), req.headers["content-type"]);
    if (method === "getUpdates") return getUpdates(token, res, p);
    if (method === "sendMessage") {
      received(String(p.chat_id));
      sentWith(token);
      const chatId = Number(p.chat_id) || 0;
      return later(res, {
        ok: true,
        result: {
          message_id: nextId++, date: Math.floor(Date.now() / 1000), from: bot,
          chat: { id: chatId, type: "private" }, text: String(p.text || ""),
        },
      });
    }
    return later(res, { ok: true, result: true });
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));

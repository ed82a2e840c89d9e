// A minimal fake Bot API for benchmarks: answers getMe and sendMessage like Telegram (Zalo's
// sendMessage takes the same JSON and reads the same message_id), counts deliveries, and is fast
// enough (Node's http) that it never limits the figure measured.
// Usage: node bench/fake_bot_api.js [LATENCY_MS]  → prints "READY <port>".
// LATENCY_MS (default 0) delays every answer, as the round trip to the real API does.
// GET /count → {sent, first, last, minChatGap}: messages received, the times (ms) of the first
// and last, and the shortest interval between two messages to one chat (null if none repeats).
"use strict";
const http = require("http");

const latency = Number(process.argv[2] || 0);
let sent = 0;
let nextId = 1;
let first = null;
let last = null;
let minChatGap = null;
const lastByChat = new Map();
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
    const method = req.url.split("/").pop();
    if (method === "getMe") return reply(res, { ok: true, result: bot });
    const p = params(Buffer.concat(chunks).toString("utf8"), req.headers["content-type"]);
    if (method === "sendMessage") {
      received(String(p.chat_id));
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

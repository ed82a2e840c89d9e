// A minimal fake Telegram Bot API for benchmarks: answers getMe and sendMessage like Telegram,
// counts deliveries, and is fast enough (Node's http) that it never limits the figure measured.
// Usage: node bench/fake_bot_api.js  → prints "READY <port>"; GET /count → messages received.
"use strict";
const http = require("http");

let sent = 0;
let nextId = 1;
const bot = { id: 999000, is_bot: true, first_name: "dondoc", username: "dondoc_bench_bot" };

function reply(res, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function params(raw, type) {
  if (!raw) return {};
  if ((type || "").includes("json")) return JSON.parse(raw);
  return Object.fromEntries(new URLSearchParams(raw));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/count") return reply(res, { sent });
    const method = req.url.split("/").pop();
    if (method === "getMe") return reply(res, { ok: true, result: bot });
    const p = params(Buffer.concat(chunks).toString("utf8"), req.headers["content-type"]);
    if (method === "sendMessage") {
      sent += 1;
      const chatId = Number(p.chat_id) || 0;
      return reply(res, {
        ok: true,
        result: {
          message_id: nextId++, date: Math.floor(Date.now() / 1000), from: bot,
          chat: { id: chatId, type: "private" }, text: String(p.text || ""),
        },
      });
    }
    return reply(res, { ok: true, result: true });
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));

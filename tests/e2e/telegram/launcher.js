#!/usr/bin/env node
/*
 * Starts telegram-test-api 4.2.1 for dondoc's end-to-end tests, with the patches
 * python-telegram-bot 22 needs (SPEC §11). node_modules is never edited: every patch is
 * applied here, at start-up, by wrapping TelegramServer methods or by putting our own Express
 * routes in front of the package's (its route installers live in an exported, mutable array
 * that the TelegramServer constructor walks in order, and Express answers with the first
 * matching route).
 *
 * Usage: node launcher.js [--host 127.0.0.1] [--port 9000] [--store-timeout 86400]
 *                         [--watch-stdin]
 * (or TELEGRAM_EMULATOR_HOST / _PORT / _STORE_TIMEOUT). Prints exactly one line on stdout,
 * `READY <port>`, once listening; everything else goes to stderr. With --watch-stdin it exits
 * when its stdin closes, so a test run that dies never leaves an emulator behind.
 *
 * Bot API (what python-telegram-bot calls): <base>/bot<token>/<method>, GET or POST, JSON,
 * urlencoded or multipart. Files: <base>/file/bot<token>/<file_path>.
 * Client API (what tests call, JSON POST; see tests/e2e/telegram_emulator.py):
 *   /sendMessage /sendCommand /sendCallback /getUpdates /getUpdatesHistory  (the package's)
 *   /getCallbackAnswers /setBlocked /injectFailure                          (ours)
 */

'use strict';

const express = require('express');

// Patch 0 (body size): the package builds its body parsers with Express's 100 kB default;
// a user "sending" a photo as base64 through the client API easily exceeds that. Wrapped
// before the TelegramServer constructor calls express.json()/express.urlencoded().
const originalJson = express.json;
const originalUrlencoded = express.urlencoded;
express.json = (options = {}) => originalJson({ limit: '50mb', ...options });
express.urlencoded = (options = {}) => originalUrlencoded({ limit: '50mb', ...options });

const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index');
const { unknownMethod } = require('telegram-test-api/lib/routes/bot/unknownMethod');

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [key, value] = arg.slice(2).split('=', 2);
      if (value !== undefined) {
        out[key] = value;
      } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
        out[key] = argv[i + 1];
        i += 1;
      } else {
        out[key] = true;
      }
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const env = process.env;
const HOST = args.host || env.TELEGRAM_EMULATOR_HOST || '127.0.0.1';
const PORT = Number(args.port || env.TELEGRAM_EMULATOR_PORT || 9000);
// The package drops every stored message (bot and user) older than storeTimeout (default 60 s):
// a session-long emulator would forget what the bot said a minute ago, and the bot could no
// longer edit it. A day outlives any test session.
const STORE_TIMEOUT = Number(args['store-timeout'] || env.TELEGRAM_EMULATOR_STORE_TIMEOUT || 86400);
const BOT_USERNAME = args['bot-username'] || env.TELEGRAM_EMULATOR_BOT_USERNAME || 'dondoc_test_bot';
const BOT_FIRST_NAME = args['bot-name'] || env.TELEGRAM_EMULATOR_BOT_NAME || 'dondoc (test)';
const VERBOSE = Boolean(args.verbose || env.TELEGRAM_EMULATOR_VERBOSE);

if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) {
  process.stderr.write(`launcher: bad port ${PORT}\n`);
  process.exit(2);
}

function log(line) {
  process.stderr.write(`[telegram-emulator] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Telegram-shaped helpers

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const CALLBACK_DATA_LIMIT = 64; // bytes

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Extra state the package does not keep. */
const state = {
  chats: new Map(), // String(chat id) -> chat object, learnt from users' updates
  files: new Map(), // file_id -> {file_id, file_unique_id, file_name, mime_type, file_path, data}
  fileCount: 0,
  callbackAnswers: [], // answerCallbackQuery calls, with the chat and user they answered
  blocked: new Set(), // `${token} ${chatId}`: users who blocked the bot
  failures: [], // injected failures: {token, method, count, error_code, description, retry_after}
  commands: new Map(), // token -> BotCommand[] from setMyCommands
};

function tgError(res, code, description, parameters) {
  const body = { ok: false, error_code: code, description };
  if (parameters) body.parameters = parameters;
  res.status(code).json(body);
}

function ok(res, result) {
  res.json({ ok: true, result });
}

/** The bot as Telegram describes it: its id is the token's prefix, as on the real service. */
function botUser(token) {
  const id = Number(String(token).split(':')[0]);
  return {
    id: Number.isSafeInteger(id) && id > 0 ? id : 666,
    is_bot: true,
    first_name: BOT_FIRST_NAME,
    username: BOT_USERNAME,
  };
}

function chatObject(chatId) {
  const known = state.chats.get(String(chatId));
  if (known) return { ...known };
  const id = Number(chatId);
  return { id, type: id < 0 ? 'group' : 'private' };
}

function rememberChat(chat, from) {
  if (chat && chat.id !== undefined) {
    // A press names its chat by id alone: merge, so what a message told us is kept.
    const known = state.chats.get(String(chat.id));
    const copy = { ...known, ...chat, id: Number(chat.id) };
    if (!copy.type) copy.type = copy.id < 0 ? 'group' : 'private';
    if (copy.type === 'private') delete copy.title; // Telegram gives private chats no title
    state.chats.set(String(chat.id), copy);
  } else if (from && from.id !== undefined) {
    state.chats.set(String(from.id), {
      id: Number(from.id), type: 'private', first_name: from.first_name, username: from.username,
    });
  }
}

function parseJsonField(value) {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (_error) {
    return undefined;
  }
}

function findBotEntry(server, token, chatId, messageId) {
  return server.storage.botMessages.find((u) => u.botToken === token
    && String(u.messageId) === String(messageId)
    && String(u.message.chat_id) === String(chatId));
}

function findUserEntry(server, token, chatId, messageId) {
  return server.storage.userMessages.find((u) => u.botToken === token
    && !('callbackQuery' in u)
    && String(u.messageId) === String(messageId)
    && u.message.chat && String(u.message.chat.id) === String(chatId));
}

/** A stored bot message as the Message object Telegram would return for it. */
function toTelegram(entry) {
  const m = entry.message;
  const out = {
    message_id: entry.messageId,
    from: botUser(entry.botToken),
    chat: chatObject(m.chat_id),
    date: Math.floor(entry.time / 1000),
  };
  if (m.edit_date) out.edit_date = m.edit_date;
  for (const key of ['text', 'entities', 'caption', 'caption_entities', 'document', 'photo',
    'reply_to_message']) {
    if (m[key] !== undefined && m[key] !== null) out[key] = m[key];
  }
  // Telegram echoes only inline keyboards in Message.reply_markup.
  if (m.reply_markup && Array.isArray(m.reply_markup.inline_keyboard)) {
    out.reply_markup = m.reply_markup;
  }
  return out;
}

/** A stored user message as Telegram's Message (for reply_to_message). */
function userEntryToTelegram(entry) {
  const m = { ...entry.message, message_id: entry.messageId };
  delete m.botToken;
  delete m.reply_to_message; // Telegram does not nest replies more than one level
  return m;
}

function visibleLength(text, parseMode) {
  let visible = String(text);
  if (String(parseMode || '').toUpperCase() === 'HTML') {
    visible = visible.replace(/<[^>]*>/g, '')
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  }
  return visible.trim().length;
}

/** Telegram's own 400s for what a sender can get wrong; [code, description] or null. */
function checkText(text, parseMode, { caption = false } = {}) {
  if (caption) {
    if (text !== undefined && visibleLength(text, parseMode) > CAPTION_LIMIT) {
      return [400, 'Bad Request: message caption is too long'];
    }
    return null;
  }
  if (text === undefined || text === null || visibleLength(text, parseMode) === 0) {
    return [400, 'Bad Request: message text is empty'];
  }
  if (visibleLength(text, parseMode) > TEXT_LIMIT) {
    return [400, 'Bad Request: message is too long'];
  }
  return null;
}

function checkMarkup(rawMarkup) {
  if (rawMarkup === undefined || rawMarkup === null || rawMarkup === '') return null;
  const markup = parseJsonField(rawMarkup);
  if (!markup || typeof markup !== 'object') {
    return [400, "Bad Request: can't parse reply keyboard markup JSON object"];
  }
  if (Array.isArray(markup.inline_keyboard)) {
    for (const row of markup.inline_keyboard) {
      for (const button of row) {
        if (!button.text) return [400, 'Bad Request: text buttons are unallowed in the inline keyboard'];
        if (button.callback_data !== undefined
          && (Buffer.byteLength(String(button.callback_data), 'utf8') > CALLBACK_DATA_LIMIT
            || String(button.callback_data).length === 0)) {
          return [400, 'Bad Request: BUTTON_DATA_INVALID'];
        }
      }
    }
  }
  return null;
}

/** The message a bot method replies to (reply_parameters or the old reply_to_message_id). */
function replyTarget(server, token, body) {
  const params = parseJsonField(body.reply_parameters);
  const messageId = (params && params.message_id) || body.reply_to_message_id;
  if (!messageId) return undefined;
  const chatId = (params && params.chat_id) || body.chat_id;
  const botEntry = findBotEntry(server, token, chatId, messageId);
  if (botEntry) return toTelegram(botEntry);
  const userEntry = findUserEntry(server, token, chatId, messageId);
  if (userEntry) return userEntryToTelegram(userEntry);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Files

function pngSize(data) {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47) {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  return { width: 0, height: 0 };
}

function storeFile({ data, fileName, mimeType, kind }) {
  state.fileCount += 1;
  const n = state.fileCount;
  const fileId = `${kind}-${n}-${Date.now().toString(36)}`;
  const ext = fileName && fileName.includes('.') ? fileName.slice(fileName.lastIndexOf('.')) : '';
  const record = {
    file_id: fileId,
    file_unique_id: `u${n}`,
    file_name: fileName,
    mime_type: mimeType,
    file_size: data.length,
    file_path: `${kind === 'photo' ? 'photos' : 'documents'}/file_${n}${ext}`,
    data,
  };
  state.files.set(fileId, record);
  return record;
}

function documentObject(record) {
  const doc = { file_id: record.file_id, file_unique_id: record.file_unique_id, file_size: record.file_size };
  if (record.file_name) doc.file_name = record.file_name;
  if (record.mime_type) doc.mime_type = record.mime_type;
  return doc;
}

function photoObject(record) {
  return [{
    file_id: record.file_id,
    file_unique_id: record.file_unique_id,
    file_size: record.file_size,
    ...pngSize(record.data),
  }];
}

/** Minimal multipart/form-data reader: the package has only JSON and urlencoded parsers. */
function readMultipart(req) {
  return new Promise((resolve, reject) => {
    const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] || '');
    if (!match) {
      reject(new Error('multipart body without boundary'));
      return;
    }
    const boundary = Buffer.from(`--${match[1] || match[2]}`);
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const fields = {};
      const files = {};
      let start = body.indexOf(boundary);
      while (start !== -1) {
        const partStart = start + boundary.length;
        if (body.slice(partStart, partStart + 2).toString() === '--') break;
        const next = body.indexOf(boundary, partStart);
        if (next === -1) break;
        const part = body.slice(partStart + 2, next - 2); // skip CRLF after boundary and before next
        const headerEnd = part.indexOf('\r\n\r\n');
        const headers = part.slice(0, headerEnd).toString('utf8');
        const content = part.slice(headerEnd + 4);
        const name = /name="([^"]*)"/i.exec(headers);
        const filename = /filename="([^"]*)"/i.exec(headers);
        const type = /content-type:\s*([^\r\n]+)/i.exec(headers);
        if (name) {
          if (filename) {
            files[name[1]] = { filename: filename[1], contentType: type && type[1].trim(), data: content };
          } else {
            fields[name[1]] = content.toString('utf8');
          }
        }
        start = next;
      }
      resolve({ fields, files });
    });
  });
}

/** The file a bot method sends: an upload, attach://name, a known file_id, or a URL. */
function resolveOutgoingFile(req, param, kind) {
  let value = req.body[param];
  let upload = req.files && req.files[param];
  if (typeof value === 'string' && value.startsWith('attach://')) {
    upload = req.files && req.files[value.slice('attach://'.length)];
    value = undefined;
  }
  if (upload) {
    return storeFile({ data: upload.data, fileName: upload.filename, mimeType: upload.contentType, kind });
  }
  if (typeof value === 'string' && state.files.has(value)) return state.files.get(value);
  if (typeof value === 'string' && /^https?:\/\//.test(value)) {
    return storeFile({ data: Buffer.alloc(0), fileName: value.split('/').pop(), mimeType: undefined, kind });
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Patches on TelegramServer

// Patch 2 (bot message dates and sender): addBotMessage returns `date` in milliseconds and no
// `from`; python-telegram-bot converts the date with datetime.fromtimestamp and fails
// ("year is out of range"), so every send_message raised inside the bot. We keep the package's
// storage and counters, then (a) return the Telegram Message shape (date in seconds, `from` =
// the bot, chat object, only inline reply_markup), and (b) write the same fields into the
// stored message so clients reading /getUpdates and /getUpdatesHistory see them too.
const originalAddBotMessage = TelegramServer.prototype.addBotMessage;
TelegramServer.prototype.addBotMessage = function addBotMessage(rawMessage, botToken) {
  const returned = originalAddBotMessage.call(this, rawMessage, botToken);
  const entry = this.storage.botMessages.find(
    (u) => u.messageId === returned.message_id && u.botToken === botToken,
  );
  entry.revision = 0; // bumped by every edit, so clients can tell an edited message is new
  Object.assign(entry.message, {
    message_id: entry.messageId,
    from: botUser(botToken),
    chat: chatObject(entry.message.chat_id),
    date: Math.floor(entry.time / 1000),
  });
  return toTelegram(entry);
};

// Patch 3 (callback queries): formatUpdate builds callback_query from id/from/message/data
// only; Telegram always sends `chat_instance` and PTB 22 requires it (CallbackQuery's
// constructor). The instance and the pressed message are filled in by our /sendCallback. Also
// drops the `botToken` field the package leaves inside every user message.
const originalFormatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = function formatUpdate(update) {
  const out = originalFormatUpdate.call(this, update);
  if (out.callback_query) {
    out.callback_query.chat_instance = update.callbackQuery.chat_instance;
  }
  if (out.message) delete out.message.botToken;
  return out;
};

// Patch 5 (webhooks): the package posts updates with axios, without the
// X-Telegram-Bot-Api-Secret-Token header Telegram sends when setWebhook had a secret_token,
// so a bot that checks it (SPEC §10) refused every update. Also keeps webhook-delivered
// updates in storage (already read) so /getUpdatesHistory and answerCallbackQuery see them.
TelegramServer.prototype.addUserUpdate = async function addUserUpdate(update) {
  if (!update.botToken) throw new Error('The message must contain a `botToken` field.');
  const webhook = this.webhooks[update.botToken];
  if (webhook) {
    const headers = { 'Content-Type': 'application/json' };
    if (webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret_token;
    const response = await fetch(webhook.url, {
      method: 'POST', headers, body: JSON.stringify(TelegramServer.formatUpdate(update)),
    });
    if (!response.ok) throw new Error(`Webhook invocation failed: HTTP ${response.status}`);
    this.storage.userMessages.push({ ...update, isRead: true });
  } else {
    this.storage.userMessages.push(update);
  }
  this.updateId += 1;
};

// ---------------------------------------------------------------------------------------------
// Our routes, installed before the package's

const SENDING_METHODS = /^(send|edit|copy|forward|delete|pin|unpin)/i;

function installBotRoutes(app, server) {
  const bot = (method, handler) => {
    app.all(`/bot:token/${method}`, (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'POST') {
        tgError(res, 405, `Method Not Allowed: HTTP ${req.method}`);
        return;
      }
      Promise.resolve(handler(req, res, next)).catch(next);
    });
  };

  // Runs before every Bot API method: merges query and body, reads multipart uploads, then
  // answers for users who blocked the bot and for failures a test injected.
  app.all('/bot:token/:method', async (req, res, next) => {
    try {
      if (req.is('multipart/form-data')) {
        const { fields, files } = await readMultipart(req);
        req.body = fields;
        req.files = files;
      }
      req.body = { ...req.query, ...(req.body || {}) };
      const { token, method } = req.params;
      if (VERBOSE && method.toLowerCase() !== 'getupdates') {
        log(`bot ${method} ${JSON.stringify(req.body).slice(0, 300)}`);
      }
      const failureIndex = state.failures.findIndex(
        (f) => f.token === token && f.method.toLowerCase() === method.toLowerCase(),
      );
      if (failureIndex !== -1) {
        const failure = state.failures[failureIndex];
        failure.count -= 1;
        if (failure.count <= 0) state.failures.splice(failureIndex, 1);
        const parameters = failure.retry_after ? { retry_after: failure.retry_after } : undefined;
        tgError(res, failure.error_code, failure.description, parameters);
        return;
      }
      if (SENDING_METHODS.test(method) && req.body.chat_id !== undefined
        && state.blocked.has(`${token} ${req.body.chat_id}`)) {
        tgError(res, 403, 'Forbidden: bot was blocked by the user');
        return;
      }
      if (method.toLowerCase() === 'getupdates' && server.webhooks[token]) {
        tgError(res, 409, "Conflict: can't use getUpdates method while webhook is active; "
          + 'use deleteWebhook to delete the webhook first');
        return;
      }
      next();
    } catch (error) {
      next(error);
    }
  });

  // Patch 1 (getMe): the package answers without `is_bot`, which PTB 22's User requires, so
  // Application.initialize() failed before polling began. Same id as the token's prefix.
  bot('getMe', (req, res) => {
    ok(res, {
      ...botUser(req.params.token),
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    });
  });

  // sendMessage: Patch 2's shape, plus Telegram's own refusals that SPEC §6 relies on (text
  // over 4096 characters, empty text, callback_data over 64 bytes) and reply_to_message.
  bot('sendMessage', (req, res) => {
    const { token } = req.params;
    const b = req.body;
    if (b.chat_id === undefined || b.chat_id === '') {
      tgError(res, 400, 'Bad Request: chat_id is empty');
      return;
    }
    const problem = checkText(b.text, b.parse_mode) || checkMarkup(b.reply_markup);
    if (problem) {
      tgError(res, ...problem);
      return;
    }
    const message = {
      chat_id: b.chat_id,
      text: b.text,
      parse_mode: b.parse_mode,
      entities: parseJsonField(b.entities),
      reply_markup: parseJsonField(b.reply_markup),
      reply_to_message: replyTarget(server, token, b) || undefined,
    };
    ok(res, server.addBotMessage(message, token));
  });

  // sendDocument / sendPhoto: missing from the package. Uploads (multipart), known file_ids
  // and URLs are accepted; the bytes are kept so tests can download what the bot sent.
  const sendFile = (kind, param) => (req, res) => {
    const { token } = req.params;
    const b = req.body;
    if (b.chat_id === undefined || b.chat_id === '') {
      tgError(res, 400, 'Bad Request: chat_id is empty');
      return;
    }
    const problem = checkText(b.caption, b.parse_mode, { caption: true }) || checkMarkup(b.reply_markup);
    if (problem) {
      tgError(res, ...problem);
      return;
    }
    const record = resolveOutgoingFile(req, param, kind);
    if (!record) {
      tgError(res, 400, `Bad Request: there is no ${param} in the request`);
      return;
    }
    const message = {
      chat_id: b.chat_id,
      caption: b.caption,
      parse_mode: b.parse_mode,
      caption_entities: parseJsonField(b.caption_entities),
      reply_markup: parseJsonField(b.reply_markup),
      reply_to_message: replyTarget(server, token, b) || undefined,
      [param]: kind === 'photo' ? photoObject(record) : documentObject(record),
    };
    ok(res, server.addBotMessage(message, token));
  };
  bot('sendDocument', sendFile('document', 'document'));
  bot('sendPhoto', sendFile('photo', 'photo'));

  bot('getFile', (req, res) => {
    const record = state.files.get(String(req.body.file_id));
    if (!record) {
      tgError(res, 400, 'Bad Request: invalid file_id');
      return;
    }
    ok(res, {
      file_id: record.file_id,
      file_unique_id: record.file_unique_id,
      file_size: record.file_size,
      file_path: record.file_path,
    });
  });

  // Patch 4 (edits): the package answers editMessageText / editMessageReplyMarkup with
  // `result: null`; Telegram returns the edited Message (or true for inline messages), and
  // PTB's query.edit_message_text() returned None where callers expect a Message. The package
  // also kept the old keyboard when an edit omitted reply_markup (Telegram removes it), never
  // refused an edit of a missing message, and ignored "message is not modified" — Telegram's
  // 400 when nothing changes, which a bot that edits on every button press must handle.
  const edit = (kind) => (req, res) => {
    const { token } = req.params;
    const b = req.body;
    if (b.inline_message_id) {
      ok(res, true);
      return;
    }
    const entry = findBotEntry(server, token, b.chat_id, b.message_id);
    if (!entry) {
      tgError(res, 400, 'Bad Request: message to edit not found');
      return;
    }
    const m = entry.message;
    const problem = (kind === 'text' && checkText(b.text, b.parse_mode))
      || (kind === 'caption' && checkText(b.caption, b.parse_mode, { caption: true }))
      || checkMarkup(b.reply_markup);
    if (problem) {
      tgError(res, ...problem);
      return;
    }
    if (kind === 'text' && m.text === undefined) {
      tgError(res, 400, 'Bad Request: there is no text in the message to edit');
      return;
    }
    if (kind === 'caption' && m.text !== undefined) {
      tgError(res, 400, 'Bad Request: there is no caption in the message to edit');
      return;
    }
    const parsedMarkup = parseJsonField(b.reply_markup);
    const markup = parsedMarkup && Array.isArray(parsedMarkup.inline_keyboard) ? parsedMarkup : undefined;
    const currentMarkup = m.reply_markup && Array.isArray(m.reply_markup.inline_keyboard)
      ? m.reply_markup : undefined;
    const next = {};
    if (kind === 'text') next.text = b.text;
    if (kind === 'caption') next.caption = b.caption;
    const sameContent = (kind === 'markup')
      || (kind === 'text' && next.text === m.text)
      || (kind === 'caption' && (next.caption || '') === (m.caption || ''));
    if (sameContent && JSON.stringify(markup) === JSON.stringify(currentMarkup)) {
      tgError(res, 400, 'Bad Request: message is not modified: specified new message content '
        + 'and reply markup are exactly the same as a current content and reply markup of the '
        + 'message');
      return;
    }
    if (kind === 'text') {
      m.text = b.text;
      m.parse_mode = b.parse_mode;
      m.entities = parseJsonField(b.entities);
    }
    if (kind === 'caption') {
      m.caption = b.caption;
      m.parse_mode = b.parse_mode;
      m.caption_entities = parseJsonField(b.caption_entities);
    }
    if (markup) m.reply_markup = markup;
    else delete m.reply_markup;
    m.edit_date = nowSeconds();
    entry.revision = (entry.revision || 0) + 1;
    server.emit(kind === 'markup' ? 'EditedMessageReplyMarkup' : 'EditedMessageText');
    ok(res, toTelegram(entry));
  };
  bot('editMessageText', edit('text'));
  bot('editMessageCaption', edit('caption'));
  bot('editMessageReplyMarkup', edit('markup'));

  // deleteMessage: the package answers `result: null`; Telegram answers true.
  bot('deleteMessage', (req, res) => {
    const chatId = Number(req.body.chat_id);
    const messageId = Number(req.body.message_id);
    if (!Number.isFinite(chatId) || !Number.isFinite(messageId)) {
      tgError(res, 400, 'Bad Request: chat_id and message_id are required');
      return;
    }
    if (!server.deleteMessage(chatId, messageId)) {
      tgError(res, 400, 'Bad Request: message to delete not found');
      return;
    }
    ok(res, true);
  });

  // answerCallbackQuery: the package answers `result: null` and forgets the answer. Telegram
  // answers true, and 400 for an unknown query id. Answers are kept for /getCallbackAnswers.
  bot('answerCallbackQuery', (req, res) => {
    const { token } = req.params;
    const id = String(req.body.callback_query_id);
    const update = server.storage.userMessages.find(
      (u) => u.botToken === token && 'callbackQuery' in u && String(u.callbackId) === id,
    );
    if (!update) {
      tgError(res, 400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
      return;
    }
    const message = update.callbackQuery.message || {};
    state.callbackAnswers.push({
      token,
      callback_query_id: id,
      chat_id: message.chat ? message.chat.id : undefined,
      user_id: update.callbackQuery.from ? update.callbackQuery.from.id : undefined,
      message_id: message.message_id,
      data: update.callbackQuery.data,
      text: req.body.text,
      show_alert: req.body.show_alert === true || req.body.show_alert === 'true',
      url: req.body.url,
      date: nowSeconds(),
    });
    ok(res, true);
  });

  // deleteWebhook: honours drop_pending_updates as Telegram does (the package ignores it).
  bot('deleteWebhook', (req, res) => {
    const { token } = req.params;
    server.deleteWebhook(token);
    const drop = req.body.drop_pending_updates;
    if (drop === true || drop === 'true') {
      server.storage.userMessages.forEach((u) => {
        if (u.botToken === token) u.isRead = true;
      });
    }
    ok(res, true);
  });

  // setWebhook: the package answers `result: null` and keeps no secret; Telegram answers true.
  bot('setWebhook', (req, res) => {
    const { token } = req.params;
    if (!req.body.url) {
      server.deleteWebhook(token);
      ok(res, true);
      return;
    }
    server.setWebhook({ url: req.body.url, secret_token: req.body.secret_token }, token);
    ok(res, true);
  });

  bot('getWebhookInfo', (req, res) => {
    const { token } = req.params;
    const webhook = server.webhooks[token];
    ok(res, {
      url: webhook ? webhook.url : '',
      has_custom_certificate: false,
      pending_update_count: server.storage.userMessages.filter((u) => u.botToken === token && !u.isRead).length,
    });
  });

  // Start-up and housekeeping methods a bot commonly calls; the package has none of them.
  bot('setMyCommands', (req, res) => {
    state.commands.set(req.params.token, parseJsonField(req.body.commands) || []);
    ok(res, true);
  });
  bot('getMyCommands', (req, res) => ok(res, state.commands.get(req.params.token) || []));
  bot('deleteMyCommands', (req, res) => {
    state.commands.delete(req.params.token);
    ok(res, true);
  });
  for (const method of ['sendChatAction', 'setChatMenuButton', 'setMyDescription',
    'setMyShortDescription', 'setMyName', 'setMyDefaultAdministratorRights', 'close', 'logOut']) {
    bot(method, (req, res) => ok(res, true));
  }
  bot('getChatMenuButton', (req, res) => ok(res, { type: 'default' }));
  bot('getMyDescription', (req, res) => ok(res, { description: '' }));
  bot('getMyShortDescription', (req, res) => ok(res, { short_description: '' }));
  bot('getMyName', (req, res) => ok(res, { name: BOT_FIRST_NAME }));

  // Files the bot uploaded or users sent, as Telegram's file server serves them.
  app.get('/file/bot:token/*', (req, res) => {
    const path = req.params[0];
    const record = [...state.files.values()].find((f) => f.file_path === path);
    if (!record) {
      res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.type(record.mime_type || 'application/octet-stream').send(record.data);
  });
}

function installClientRoutes(app, server) {
  const client = (path, handler) => {
    app.post(path, (req, res, next) => {
      if (VERBOSE && path !== '/getUpdatesHistory' && path !== '/getUpdates') {
        log(`client ${path} ${JSON.stringify(req.body).slice(0, 300)}`);
      }
      Promise.resolve(handler(req, res, next)).catch((error) => {
        tgError(res, 400, `Bad Request: ${error.message}`);
      });
    });
  };

  // A user's message as Telegram delivers it. The package's own routes did not await the
  // storage promise (a body without botToken became an unhandled rejection that killed the
  // process) and knew nothing of replies or attachments.
  const prepareUserMessage = (body) => {
    if (!body || !body.botToken) throw new Error('botToken is required');
    if (!body.chat && !body.from) throw new Error('chat or from is required');
    const message = { ...body };
    if (!message.chat) message.chat = { id: message.from.id, type: 'private', first_name: message.from.first_name };
    if (!message.date) message.date = nowSeconds();
    rememberChat(message.chat, message.from);
    const replyId = message.reply_to_message_id
      || (message.reply_to_message && message.reply_to_message.message_id);
    delete message.reply_to_message_id;
    if (replyId) {
      const botEntry = findBotEntry(server, body.botToken, message.chat.id, replyId);
      const userEntry = botEntry ? null : findUserEntry(server, body.botToken, message.chat.id, replyId);
      if (!botEntry && !userEntry) throw new Error(`message ${replyId} to reply to not found in chat ${message.chat.id}`);
      message.reply_to_message = botEntry ? toTelegram(botEntry) : userEntryToTelegram(userEntry);
    }
    // Attachments: {document: {content_base64, file_name, mime_type}} or {photo: {content_base64}}.
    if (message.document && message.document.content_base64 !== undefined) {
      const record = storeFile({
        data: Buffer.from(message.document.content_base64, 'base64'),
        fileName: message.document.file_name,
        mimeType: message.document.mime_type,
        kind: 'document',
      });
      message.document = documentObject(record);
    }
    if (message.photo && !Array.isArray(message.photo) && message.photo.content_base64 !== undefined) {
      const record = storeFile({
        data: Buffer.from(message.photo.content_base64, 'base64'), kind: 'photo', mimeType: 'image/jpeg',
      });
      message.photo = photoObject(record);
    }
    return message;
  };

  client('/sendMessage', async (req, res) => {
    const message = prepareUserMessage(req.body);
    const ids = { update_id: server.updateId, message_id: server.messageId };
    await server.addUserMessage(message);
    ok(res, ids);
  });

  client('/sendCommand', async (req, res) => {
    const message = prepareUserMessage(req.body);
    if (!message.entities) {
      const text = String(message.text || '');
      const end = text.indexOf(' ') === -1 ? text.length : text.indexOf(' ');
      message.entities = [{ offset: 0, length: end, type: 'bot_command' }];
    }
    const ids = { update_id: server.updateId, message_id: server.messageId };
    await server.addUserCommand(message);
    ok(res, ids);
  });

  // Patch 3, client side: a press names the message carrying the button (message.message_id
  // and message.chat.id); the update then carries that message as the bot last left it, as
  // Telegram does, and a chat_instance for the chat.
  client('/sendCallback', async (req, res) => {
    const body = req.body || {};
    if (!body.botToken) throw new Error('botToken is required');
    if (!body.from) throw new Error('from is required');
    const pressed = body.message || {};
    const chatId = pressed.chat ? pressed.chat.id : body.from.id;
    if (pressed.message_id === undefined) throw new Error('message.message_id is required');
    const entry = findBotEntry(server, body.botToken, chatId, pressed.message_id);
    if (!entry) throw new Error(`bot message ${pressed.message_id} not found in chat ${chatId}`);
    rememberChat(pressed.chat, body.from);
    const callbackQuery = {
      ...body,
      message: toTelegram(entry),
      chat_instance: body.chat_instance || `ci${String(chatId).replace('-', 'n')}`,
    };
    const ids = { update_id: server.updateId, callback_query_id: String(server.callbackId) };
    await server.addUserCallback(callbackQuery);
    ok(res, ids);
  });

  client('/getCallbackAnswers', (req, res) => {
    const { token, chatId } = req.body || {};
    ok(res, state.callbackAnswers.filter((a) => a.token === token
      && (chatId === undefined || String(a.chat_id) === String(chatId))));
  });

  // {token, chatId, blocked}: while blocked, sending to that chat answers 403 as Telegram does.
  client('/setBlocked', (req, res) => {
    const { token, chatId, blocked } = req.body || {};
    if (!token || chatId === undefined) throw new Error('token and chatId are required');
    const key = `${token} ${chatId}`;
    if (blocked === false) state.blocked.delete(key);
    else state.blocked.add(key);
    ok(res, true);
  });

  // {token, method, error_code, description, retry_after?, count?}: the next `count` calls of
  // that Bot API method answer this error (429 with retry_after becomes PTB's RetryAfter).
  client('/injectFailure', (req, res) => {
    const b = req.body || {};
    if (!b.token || !b.method || !b.error_code) throw new Error('token, method and error_code are required');
    state.failures.push({
      token: b.token,
      method: b.method,
      count: Number(b.count || 1),
      error_code: Number(b.error_code),
      description: b.description || `Error ${b.error_code}`,
      retry_after: b.retry_after ? Number(b.retry_after) : undefined,
    });
    ok(res, true);
  });
}

// Our installers go first; the package's catch-all for unknown Bot API methods is replaced by
// one that answers like Telegram (HTTP 404 → PTB's InvalidToken looked like a bad token, and the
// package's HTTP 500 without `description` became an opaque NetworkError that PTB retries).
routes.unshift(installClientRoutes, installBotRoutes);
routes[routes.indexOf(unknownMethod)] = (app) => {
  app.all('/bot:token/:method', (req, res) => {
    tgError(res, 400, `Bad Request: method '${req.params.method}' is not emulated; `
      + 'add it to tests/e2e/telegram/launcher.js');
  });
};

// ---------------------------------------------------------------------------------------------
// Start

process.on('unhandledRejection', (error) => log(`unhandled rejection: ${error && error.stack}`));

async function main() {
  const server = new TelegramServer({ host: HOST, port: PORT, storeTimeout: STORE_TIMEOUT });
  let stopping = false;
  const stop = async (why) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    const timer = setTimeout(() => process.exit(0), 2000);
    timer.unref();
    try {
      await server.stop();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (args['watch-stdin']) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('close', () => stop('stdin closed'));
    process.stdin.resume();
  }
  try {
    await server.start();
  } catch (error) {
    log(`cannot listen on ${HOST}:${PORT}: ${error.message}`);
    process.exit(error.code === 'EADDRINUSE' ? 98 : 1);
  }
  process.stdout.write(`READY ${PORT}\n`);
}

main();

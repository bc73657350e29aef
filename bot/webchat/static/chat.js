"use strict";
(function () {
  const log = document.getElementById("log");
  const announce = document.getElementById("announce");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const status = document.getElementById("status");
  const talk = document.getElementById("talk");
  const fileInput = document.getElementById("audio-file");
  const REFERENCE = /SQ-\d{8}-\d{4}/g;
  const OFFLINE = "连接不上服务器，请检查网络后再试。您输入的内容还在输入框里。";
  const SLOW = "服务器太久没有回应，请稍后再试。您输入的内容还在输入框里。";
  const MAX_CHARS = 2000;
  const MAX_AUDIO_BYTES = 2 * 1024 * 1024;
  const MAX_RECORD_MS = 60000;
  let lastQuestion = "";
  let busy = false;

  function say(text) { status.textContent = text; }

  // Fetch with a time limit, so the page never hangs. Resolves to {ok, status, data} or
  // {ok: false, error} when the server could not be reached or took too long.
  async function call(url, options, ms) {
    const controller = new AbortController();
    const timer = setTimeout(function () { controller.abort(); }, ms);
    try {
      const response = await fetch(url, Object.assign({ signal: controller.signal, credentials: "same-origin" }, options));
      const type = response.headers.get("Content-Type") || "";
      const data = type.indexOf("application/json") === 0 ? await response.json().catch(function () { return {}; }) : null;
      return { ok: response.ok, status: response.status, data: data, response: response };
    } catch (err) {
      return { ok: false, error: err && err.name === "AbortError" ? SLOW : OFFLINE };
    } finally {
      clearTimeout(timer);
    }
  }

  // Text with reference numbers (SQ-YYYYMMDD-NNNN) highlighted; always text nodes, never HTML.
  function appendText(parent, text) {
    let last = 0;
    text.replace(REFERENCE, function (match, offset) {
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      const ref = document.createElement("strong");
      ref.className = "ref";
      const label = document.createElement("span");
      label.className = "sr-only";
      label.textContent = "办理编号 ";
      ref.appendChild(label);
      ref.appendChild(document.createTextNode(match));
      parent.appendChild(ref);
      last = offset + match.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function addMine(text) {
    const div = document.createElement("div");
    div.className = "msg me";
    const who = document.createElement("span");
    who.className = "sr-only";
    who.textContent = "我说：";
    div.appendChild(who);
    div.appendChild(document.createTextNode(text));
    log.appendChild(div);
    div.scrollIntoView({ block: "end" });
  }

  const PUSH_LABELS = { staff: "工作人员消息：", status: "办理进度：", notice: "通知：" };

  function addAnswer(message, question, kind, pushKind) {
    const text = message.text || "";
    const pushLabel = PUSH_LABELS[pushKind] || PUSH_LABELS.staff;
    const div = document.createElement("div");
    div.className = "msg bot" + (kind ? " " + kind : "");
    const body = document.createElement("p");
    body.className = "text";
    if (kind === "push") {
      const who = document.createElement("strong");
      who.textContent = pushLabel;
      body.appendChild(who);
    }
    appendText(body, text);
    div.appendChild(body);
    if (message.buttons && message.buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "可选的回答");
      message.buttons.forEach(function (b) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
    if (text.trim()) div.appendChild(tools(text, question, kind));
    log.appendChild(div);
    announce.textContent = (kind === "push" ? pushLabel : "助手回答：") + text;
    div.scrollIntoView({ block: "end" });
  }

  // 朗读, 慢速朗读, 👍, 👎 under an answer (no rating for pushed messages and "the system is
  // recovering" replies: they are not the assistant's answers).
  function tools(text, question, kind) {
    const row = document.createElement("div");
    row.className = "tools";
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "对这条回答");
    [["朗读", "normal"], ["慢速朗读", "slow"]].forEach(function (pair) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "speak";
      btn.dataset.rate = pair[1];
      btn.textContent = "🔊 " + pair[0];
      btn.setAttribute("aria-label", pair[0] + "这条回答");
      btn.addEventListener("click", function () { speak(text, pair[1], btn); });
      row.appendChild(btn);
    });
    if (!kind) {
      [["up", "👍 有用", "这条回答有用"], ["down", "👎 没用", "这条回答没用"]].forEach(function (r) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "rate";
        btn.dataset.rating = r[0];
        btn.textContent = r[1];
        btn.setAttribute("aria-label", r[2]);
        btn.addEventListener("click", function () { rate(r[0], question, text, row); });
        row.appendChild(btn);
      });
    }
    return row;
  }

  async function rate(rating, question, answer, row) {
    const result = await call("/api/rate", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rating: rating, question: question, answer: answer }),
    }, 15000);
    if (!result.ok) { say((result.data && result.data.error) || result.error || "评价没有保存成功，请稍后再试。"); return; }
    row.querySelectorAll(".rate").forEach(function (b) {
      b.disabled = true;
      if (b.dataset.rating === rating) b.setAttribute("aria-pressed", "true");
    });
    say(result.data.message);
  }

  let player = null;
  async function speak(text, rate, btn) {
    if (player) { player.pause(); player = null; }
    btn.disabled = true;
    say("正在准备朗读……");
    const result = await call("/api/speech", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text, rate: rate }),
    }, 45000);
    btn.disabled = false;
    if (!result.ok) { say((result.data && result.data.error) || result.error || "朗读功能暂时用不了，请看文字。"); return; }
    const blob = await result.response.blob();
    player = new Audio(URL.createObjectURL(blob));
    say("正在朗读。");
    player.play().catch(function () { say("浏览器没有播放声音，请检查音量或再按一次朗读。"); });
  }

  // Rasa's answers; while part of the system restarts the server answers with a "recovering"
  // reply instead (an emergency gets 119/110/120 first), shown like any answer.
  function showAnswers(data, question) {
    const messages = (data && data.messages) || [];
    const kind = data && data.recovering ? "recovering" : undefined;
    messages.forEach(function (m) {
      if (m.text || (m.buttons && m.buttons.length)) addAnswer(m, question, kind);
    });
    if (!messages.length) say((data && data.notice) || "助手没有回答，请换个说法再试。");
  }

  async function send(message, shown) {
    if (busy) return false;
    busy = true;
    say("正在查询……");
    addMine(shown);
    lastQuestion = shown;
    const result = await call("/api/chat", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: message }),
    }, 40000);
    busy = false;
    if (!result.ok) { say((result.data && result.data.error) || result.error || "系统繁忙，请稍后再试。"); return false; }
    say("");
    showAnswers(result.data, shown);
    return !(result.data && result.data.recovering);  // recovering: the text stays in the box, to send again
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) { say("请先输入您的问题。"); input.focus(); return; }
    if (text.length > MAX_CHARS) { say("您输入的内容太长了（最多2000字），请分几次说。"); input.focus(); return; }
    if (await send(text, text)) input.value = "";
    input.focus();
  });
  document.querySelectorAll(".quick button").forEach(function (btn) {
    btn.addEventListener("click", function () { send(btn.dataset.payload, btn.textContent); });
  });

  // 大字模式 and 高对比度, remembered in localStorage (prefs.js applies them before drawing).
  [["large", "sqa-large"], ["contrast", "sqa-contrast"]].forEach(function (pair) {
    const btn = document.getElementById(pair[0]);
    const root = document.documentElement;
    btn.setAttribute("aria-pressed", String(root.classList.contains(pair[0])));
    btn.addEventListener("click", function () {
      const on = root.classList.toggle(pair[0]);
      btn.setAttribute("aria-pressed", String(on));
      try { localStorage.setItem(pair[1], on ? "1" : "0"); } catch (err) { /* not remembered */ }
    });
  });

  // Voice: a recording (from 按住说话 or a file) goes to /api/voice; the page shows what was heard.
  let voiceAvailable = null;
  let voiceMessage = "语音输入还没有安装，请用文字输入。";
  call("/api/voice", {}, 10000).then(function (result) {
    if (result.ok && result.data) {
      voiceAvailable = !!result.data.available;
      if (!voiceAvailable) {
        voiceMessage = result.data.message || voiceMessage;
        talk.setAttribute("aria-disabled", "true");
        document.getElementById("talk-hint").textContent = voiceMessage;
      }
    }
  });

  async function sendAudio(blob) {
    if (!blob || !blob.size) { say("没有录到声音，请按住按钮说话，说完再松开。"); return; }
    if (blob.size > MAX_AUDIO_BYTES) { say("录音太长了（最多60秒、2MB），请说短一点再试。"); return; }
    busy = true;
    say("正在识别您说的话……");
    const result = await call("/api/voice", {
      method: "POST", headers: { "Content-Type": blob.type || "application/octet-stream" }, body: blob,
    }, 70000);
    busy = false;
    if (!result.ok) { say((result.data && result.data.error) || result.error || "语音识别出错了，请用文字输入。"); return; }
    say("");
    addMine("（语音）" + result.data.heard);
    showAnswers(result.data, result.data.heard);
  }

  let recorder = null;
  let chunks = [];
  let stopTimer = null;
  async function startRecording() {
    if (voiceAvailable === false) { say(voiceMessage); return; }
    if (recorder || busy) return;
    if (!navigator.mediaDevices || !window.MediaRecorder) { say("这个浏览器不能录音，请用文字输入或上传录音。"); return; }
    let streamIn;
    try {
      streamIn = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      say("没有拿到麦克风权限，请在浏览器里允许使用麦克风，或用文字输入。");
      return;
    }
    chunks = [];
    recorder = new MediaRecorder(streamIn);
    recorder.addEventListener("dataavailable", function (e) { if (e.data.size) chunks.push(e.data); });
    recorder.addEventListener("stop", function () {
      streamIn.getTracks().forEach(function (t) { t.stop(); });
      const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
      recorder = null;
      talk.classList.remove("recording");
      talk.textContent = "按住说话";
      sendAudio(blob);
    });
    recorder.start();
    talk.classList.add("recording");
    talk.textContent = "正在录音，松开结束";
    say("正在录音……说完请松开。");
    stopTimer = setTimeout(stopRecording, MAX_RECORD_MS);
  }
  function stopRecording() {
    clearTimeout(stopTimer);
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }
  talk.addEventListener("pointerdown", function (e) { e.preventDefault(); startRecording(); });
  talk.addEventListener("pointerup", stopRecording);
  talk.addEventListener("pointerleave", stopRecording);
  talk.addEventListener("keydown", function (e) {
    if ((e.key === " " || e.key === "Enter") && !e.repeat) { e.preventDefault(); startRecording(); }
  });
  talk.addEventListener("keyup", function (e) {
    if (e.key === " " || e.key === "Enter") { e.preventDefault(); stopRecording(); }
  });
  talk.addEventListener("click", function (e) { e.preventDefault(); if (voiceAvailable === false) say(voiceMessage); });
  fileInput.addEventListener("change", function () {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (file) sendAudio(file);
  });

  // Messages pushed by staff (server-sent events); EventSource reconnects by itself.
  const shown = new Set();
  function acknowledge(id) {
    fetch("/api/ack", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ids: [id] }),
    }).catch(function () { /* it will be sent again and acknowledged then */ });
  }
  if (window.EventSource) {
    const events = new EventSource("/api/events");
    events.addEventListener("push", function (e) {
      let data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (!data || !data.text) return;
      if (data.id) {
        // A notification from the staff console: show it once, and tell the server it arrived.
        if (shown.has(data.id)) return acknowledge(data.id);
        shown.add(data.id);
      }
      addAnswer({ text: data.text }, lastQuestion, "push", data.kind);
      if (data.id) acknowledge(data.id);
    });
  }
})();

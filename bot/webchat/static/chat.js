"use strict";
// The resident web chat. Made for elderly and disabled residents, on phones first:
// * #log is the one polite role=log: every message is added to it once, in order, and read
//   once (with "有N个选项按钮" when it has buttons); aria-busy while an answer is awaited.
// * Each new answer is shown from its START; focusing the input never scrolls it away.
// * Buttons of finished steps become inert; 👍/👎 only under final answers; buttons keep focus
//   (aria-disabled, never disabled, while they are busy).
// * The request summary is shown as "check your answers" (each row with 更改).
// * A reload shows the resident's own conversation again (GET /api/history, by cookie).
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const status = document.getElementById("status");
  const more = document.getElementById("more");
  const extras = document.getElementById("extras");
  const slowButton = document.getElementById("slow");
  const voiceRow = document.getElementById("voice");
  const noVoice = document.getElementById("no-voice");
  const talk = document.getElementById("talk");
  const fileInput = document.getElementById("audio-file");
  const REFERENCE = /SQ-\d{8}-\d{4}/g;
  // Reference numbers, and phone numbers a phone can call: 010-8765-4300, 13812345678, 110/119/120, 12345.
  const MARKED = /SQ-\d{8}-\d{4}|(?<![\d.\-*])(?:0\d{2,3}-\d{3,4}-\d{4}|0\d{2,3}-\d{7,8}|1[3-9]\d{9}|11[09]|120|12345)(?![\d.*]|元|岁|人|个|天|分|%|号|室|栋|米)/g;
  const OFFLINE = "连接不上服务器，请检查网络后再试。您输入的内容还在输入框里。";
  const SLOW = "服务器太久没有回应，请稍后再试。您输入的内容还在输入框里。";
  const MAX_CHARS = 2000;
  const MAX_AUDIO_BYTES = 2 * 1024 * 1024;
  const MAX_RECORD_MS = 60000;
  const WIDE = window.matchMedia("(min-width: 900px) and (min-height: 700px)");
  const COARSE = window.matchMedia("(pointer: coarse)");
  let lastQuestion = "";
  let busy = false;

  function say(text) { status.textContent = text; }
  function remembered(key) { try { return localStorage.getItem(key) === "1"; } catch (err) { return false; } }
  function remember(key, on) { try { localStorage.setItem(key, on ? "1" : "0"); } catch (err) { /* not kept */ } }

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
  function postJSON(url, body, ms) {
    return call(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, ms);
  }

  // A button that keeps focus while it can't be used (aria-disabled, not disabled).
  function usable(btn) { return btn.getAttribute("aria-disabled") !== "true"; }
  function makeButton(label, className, onClick) {
    const btn = document.createElement("button");
    btn.type = "button";
    if (className) btn.className = className;
    btn.textContent = label;
    btn.addEventListener("click", function (event) { if (usable(btn)) onClick(event); });
    return btn;
  }
  function focusInput() {
    // On a touch screen focusing the box opens the keyboard over the answer: leave it closed.
    if (COARSE.matches) { if (document.activeElement === input) input.blur(); return; }
    input.focus({ preventScroll: true });
  }

  // Text with reference numbers highlighted (and wrapping) and phone numbers as tel: links;
  // always text nodes, never HTML.
  function appendText(parent, text) {
    let last = 0;
    text.replace(MARKED, function (match, offset) {
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      if (match.indexOf("SQ-") === 0) {
        const ref = document.createElement("strong");
        ref.className = "ref";
        const label = document.createElement("span");
        label.className = "sr-only";
        label.textContent = "办理编号 ";
        ref.appendChild(label);
        ref.appendChild(document.createTextNode(match));
        parent.appendChild(ref);
      } else {
        const link = document.createElement("a");
        link.className = "tel";
        link.href = "tel:" + match.replace(/-/g, "");
        link.textContent = match;
        parent.appendChild(link);
      }
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
    return div;
  }

  // Buttons of finished steps stop answering (and leave the Tab order): everything offered
  // before the newest answer.
  function finishSteps(keep) {
    log.querySelectorAll(".buttons, .check-actions").forEach(function (group) {
      if (keep && keep.contains(group)) return;
      if (group.contains(document.activeElement)) focusInput();
      group.inert = true;
      group.classList.add("done");
    });
  }

  function chooseButton(btn, payload, title) {
    if (busy) return;
    btn.classList.add("chosen");
    send(payload, title);
  }

  function optionButtons(buttons) {
    const row = document.createElement("div");
    row.className = "buttons";
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "可选的回答");
    const count = document.createElement("span");
    count.className = "sr-only";
    count.textContent = "有" + buttons.length + "个选项按钮";
    row.appendChild(count);
    buttons.forEach(function (b) {
      const payload = String(b.payload || b.title || "");
      const kind = payload === "/affirm" ? "primary" : (payload === "/cancel" ? "secondary cancel" : "");
      const btn = makeButton(String(b.title || ""), kind, function () { chooseButton(btn, payload, b.title); });
      if (payload === "/cancel") {  // set apart from the others: a slip of the finger must not cancel
        const apart = document.createElement("div");
        apart.className = "apart";
        apart.appendChild(btn);
        row.appendChild(apart);
      } else {
        row.appendChild(btn);
      }
    });
    return row;
  }

  // The request summary ("请核对：" + "label：value" rows + how to confirm), as GOV.UK's
  // "check your answers": each row with 更改, confirming the primary button, cancelling apart.
  function isSummary(message) {
    const buttons = message.buttons || [];
    return (message.text || "").indexOf("请核对：") >= 0 && buttons.some(function (b) { return b.payload === "/affirm"; });
  }
  function addSummary(div, body, message) {
    const lines = message.text.split("\n");
    const head = lines[0].replace("请核对：", "").trim();
    body.appendChild(document.createTextNode((head ? head + " " : "") + "请核对您要提交的内容："));
    const list = document.createElement("dl");
    list.className = "check";
    lines.slice(1).forEach(function (line) {
      const at = line.indexOf("：");
      if (at <= 0 || line.indexOf("没问题") === 0) return;
      const label = line.slice(0, at);
      const row = document.createElement("div");
      row.className = "check-row";
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      appendText(dd, line.slice(at + 1));
      row.appendChild(dt);
      row.appendChild(dd);
      if (label !== "事项") {
        const change = document.createElement("dd");
        change.className = "check-actions";
        const btn = makeButton("更改", "change", function () {
          input.value = label + "改成";
          input.focus();
          input.setSelectionRange(input.value.length, input.value.length);
          say("请在输入框里接着写新的" + label + "，再点“发送”。");
        });
        btn.setAttribute("aria-label", "更改" + label);
        change.appendChild(btn);
        row.appendChild(change);
      }
      list.appendChild(row);
    });
    div.appendChild(list);
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "都对的话，点“确认提交”。要改哪一项，点那一项的“更改”。";
    div.appendChild(hint);
    const buttons = optionButtons(message.buttons);
    buttons.classList.add("check-actions", "confirm");
    div.appendChild(buttons);
  }

  const PUSH_LABELS = { staff: "工作人员消息：", status: "办理进度：", notice: "通知：" };

  // One assistant message. options: kind ("push", "recovering"), pushKind, question, rate.
  function addAnswer(message, options) {
    options = options || {};
    const text = message.text || "";
    const div = document.createElement("div");
    div.className = "msg bot" + (options.kind ? " " + options.kind : "");
    const body = document.createElement("p");
    body.className = "text";
    if (options.kind === "push") {
      const who = document.createElement("strong");
      who.textContent = PUSH_LABELS[options.pushKind] || PUSH_LABELS.staff;
      body.appendChild(who);
    } else {
      const who = document.createElement("span");  // the spoken label, before the message
      who.className = "sr-only";
      who.textContent = "助手说：";
      div.appendChild(who);
    }
    div.appendChild(body);
    if (isSummary(message)) {
      addSummary(div, body, message);
    } else {
      appendText(body, text);
      if (message.buttons && message.buttons.length) div.appendChild(optionButtons(message.buttons));
    }
    if (text.trim()) div.appendChild(tools(text, options.question || "", !!options.rate));
    log.appendChild(div);
    return div;
  }

  // 朗读 (one toggle: 朗读 / 停止), and 👍 👎 under a final answer only.
  function tools(text, question, rateable) {
    const row = document.createElement("div");
    row.className = "tools";
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "对这条回答");
    const speakButton = makeButton("朗读", "speak", function () { toggleSpeech(text, speakButton); });
    speakButton.setAttribute("aria-pressed", "false");
    row.appendChild(speakButton);
    if (rateable) {
      [["up", "👍", "有用", "这条回答有用"], ["down", "👎", "没用", "这条回答没用"]].forEach(function (r) {
        const btn = makeButton("", "rate", function () { rate(r[0], question, text, row); });
        const icon = document.createElement("span");
        icon.setAttribute("aria-hidden", "true");
        icon.textContent = r[1] + " ";
        btn.appendChild(icon);
        btn.appendChild(document.createTextNode(r[2]));
        btn.dataset.rating = r[0];
        btn.setAttribute("aria-label", r[3]);
        btn.setAttribute("aria-pressed", "false");
        row.appendChild(btn);
      });
    }
    return row;
  }

  async function rate(rating, question, answer, row) {
    const buttons = row.querySelectorAll(".rate");
    buttons.forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    const result = await postJSON("/api/rate", { rating: rating, question: question, answer: answer }, 15000);
    if (!result.ok) {
      buttons.forEach(function (b) { b.removeAttribute("aria-disabled"); });
      say((result.data && result.data.error) || result.error || "评价没有保存成功，请稍后再试。");
      return;
    }
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.rating === rating)); });
    say(result.data.message);
  }

  // Read-aloud: one player for the page; each message's button toggles 朗读 / 停止; the speed
  // follows 慢速朗读 (which the assistant's answer to "说慢一点" switches on).
  let player = null;
  let playing = null;  // the button of the message being read
  function speechRate() { return slowButton.getAttribute("aria-pressed") === "true" ? "slow" : "normal"; }
  function setSlow(on) {
    slowButton.setAttribute("aria-pressed", String(on));
    remember("sqa-slow", on);
  }
  function stopSpeech(message) {
    if (player) { player.pause(); URL.revokeObjectURL(player.src); player = null; }
    if (playing) { playing.textContent = "朗读"; playing.setAttribute("aria-pressed", "false"); playing = null; }
    if (message !== undefined) say(message);
  }
  async function toggleSpeech(text, btn) {
    if (playing === btn) { stopSpeech("已停止朗读。"); return; }
    stopSpeech();
    btn.setAttribute("aria-disabled", "true");
    say("正在准备朗读……");
    const result = await postJSON("/api/speech", { text: text, rate: speechRate() }, 45000);
    btn.removeAttribute("aria-disabled");
    if (!result.ok) { say((result.data && result.data.error) || result.error || "朗读功能暂时用不了，请看文字。"); return; }
    const blob = await result.response.blob();
    const audio = new Audio(URL.createObjectURL(blob));
    player = audio;
    playing = btn;
    btn.textContent = "停止";
    btn.setAttribute("aria-pressed", "true");
    audio.addEventListener("ended", function () { if (player === audio) stopSpeech(""); });
    say(speechRate() === "slow" ? "正在慢速朗读。" : "正在朗读。");
    audio.play().catch(function () {
      if (player === audio) stopSpeech("浏览器没有播放声音，请检查音量或再按一次朗读。");
    });
  }
  setSlow(remembered("sqa-slow"));
  slowButton.addEventListener("click", function () {
    const on = speechRate() !== "slow";
    setSlow(on);
    say(on ? "朗读会慢一点。" : "朗读恢复正常速度。");
  });

  // Show the start of an answer (not its bottom); the page scrolls no further.
  function showStart(element) {
    if (element) element.scrollIntoView({ block: "start", behavior: "auto" });
  }

  // Rasa's answers; while part of the system restarts the server answers with a "recovering"
  // reply instead (an emergency gets 119/110/120 first), shown like any answer.
  function showAnswers(data, question) {
    const messages = (data && data.messages) || [];
    const kind = data && data.recovering ? "recovering" : undefined;
    let first = null;
    let shown = null;
    messages.forEach(function (m) {
      if (m.custom && m.custom.speech_rate === "slow" && speechRate() !== "slow") {
        setSlow(true);  // "说慢一点": the page reads slower from now on
      }
      if (m.text || (m.buttons && m.buttons.length)) {
        shown = addAnswer(m, { kind: kind, question: question, rate: !!m.rate && !kind });
        first = first || shown;
      }
    });
    if (first) finishSteps(shown);
    if (!messages.length) say((data && data.notice) || "助手没有回答，请换个说法再试。");
    return first;
  }

  function setBusy(on) {
    busy = on;
    log.setAttribute("aria-busy", String(on));
  }

  function fold() {
    if (WIDE.matches || extras.hidden) return;
    if (extras.contains(document.activeElement)) focusInput();
    setExtras(false);  // quick buttons and voice fold away while reading
  }

  async function send(message, shown) {
    if (busy) return false;
    setBusy(true);
    say("正在查询……");
    const mine = addMine(shown);
    mine.scrollIntoView({ block: "nearest" });
    lastQuestion = shown;
    fold();
    const result = await postJSON("/api/chat", { message: message }, 40000);
    if (!result.ok) {
      setBusy(false);
      say((result.data && result.data.error) || result.error || "系统繁忙，请稍后再试。");
      return false;
    }
    say("");
    const first = showAnswers(result.data, shown);
    setBusy(false);
    focusInput();
    showStart(first || mine);
    return !(result.data && result.data.recovering);  // recovering: the text stays in the box, to send again
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) { say("请先输入您的问题。"); input.focus(); return; }
    if (text.length > MAX_CHARS) { say("您输入的内容太长了（最多2000字），请分几次说。"); input.focus(); return; }
    if (await send(text, text)) input.value = "";
  });
  document.querySelectorAll(".quick button, #greeting button").forEach(function (btn) {
    btn.addEventListener("click", function () { chooseButton(btn, btn.dataset.payload || btn.dataset.say, btn.textContent); });
  });

  // 更多: quick services, reading speed and voice; folded away on small screens.
  function setExtras(open) {
    extras.hidden = !open;
    more.setAttribute("aria-expanded", String(open));
    more.textContent = open ? "收起" : "更多";
  }
  setExtras(WIDE.matches);
  more.addEventListener("click", function () { setExtras(extras.hidden); });

  // 大字模式 and 高对比度, remembered in localStorage (prefs.js applies them before drawing).
  [["large", "sqa-large"], ["contrast", "sqa-contrast"]].forEach(function (pair) {
    const btn = document.getElementById(pair[0]);
    const root = document.documentElement;
    btn.setAttribute("aria-pressed", String(root.classList.contains(pair[0])));
    btn.addEventListener("click", function () {
      const on = root.classList.toggle(pair[0]);
      btn.setAttribute("aria-pressed", String(on));
      remember(pair[1], on);
    });
  });

  // The resident's own conversation so far (a reload keeps it, reference numbers included).
  // Restored quietly (not read out again), then the latest answer is shown from its start.
  async function restore() {
    const result = await call("/api/history", {}, 15000);
    const messages = (result.ok && result.data && result.data.messages) || [];
    log.dataset.restored = "true";  // (tests wait for this)
    if (!messages.length) return;
    log.setAttribute("aria-live", "off");
    const divider = document.createElement("p");
    divider.className = "divider";
    divider.textContent = "以下是您之前的对话";
    log.appendChild(divider);
    let question = "";
    let latest = null;
    messages.forEach(function (m) {
      if (m.from === "resident") { question = m.text; addMine(m.text); return; }
      latest = addAnswer(m, { question: question });
    });
    finishSteps(latest);
    lastQuestion = question;
    const end = document.createElement("p");
    end.className = "divider";
    end.textContent = "以上是您之前的对话";
    log.appendChild(end);
    showStart(latest);
    setTimeout(function () { log.setAttribute("aria-live", "polite"); }, 0);
  }
  restore();

  // Voice: offered only when the server can recognise speech; otherwise said once, plainly.
  // Tap 说话 to start, tap again to stop (no holding down).
  call("/api/voice", {}, 10000).then(function (result) {
    const available = !!(result.ok && result.data && result.data.available);
    voiceRow.hidden = !available;
    if (!available && result.ok && result.data && result.data.message) {
      noVoice.textContent = result.data.message;
      noVoice.hidden = false;
    }
  });

  async function sendAudio(blob) {
    if (!blob || !blob.size) { say("没有录到声音，请点“说话”再说一次。"); return; }
    if (blob.size > MAX_AUDIO_BYTES) { say("录音太长了（最多60秒、2MB），请说短一点再试。"); return; }
    if (busy) return;
    setBusy(true);
    say("正在识别您说的话……");
    const result = await call("/api/voice", {
      method: "POST", headers: { "Content-Type": blob.type || "application/octet-stream" }, body: blob,
    }, 70000);
    if (!result.ok) {
      setBusy(false);
      say((result.data && result.data.error) || result.error || "语音识别出错了，请用文字输入。");
      return;
    }
    say("");
    const mine = addMine("（语音）" + result.data.heard);
    const first = showAnswers(result.data, result.data.heard);
    setBusy(false);
    showStart(first || mine);
  }

  let recorder = null;
  let chunks = [];
  let stopTimer = null;
  async function startRecording() {
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
      talk.setAttribute("aria-pressed", "false");
      talk.textContent = "说话";
      sendAudio(blob);
    });
    recorder.start();
    talk.classList.add("recording");
    talk.setAttribute("aria-pressed", "true");
    talk.textContent = "说完了";
    say("正在录音……说完请再点一次“说完了”。");
    stopTimer = setTimeout(stopRecording, MAX_RECORD_MS);
  }
  function stopRecording() {
    clearTimeout(stopTimer);
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }
  talk.addEventListener("click", function () { if (recorder) stopRecording(); else startRecording(); });
  fileInput.addEventListener("change", function () {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (file) sendAudio(file);
  });

  // Messages pushed by staff (server-sent events); EventSource reconnects by itself.
  const pushed = new Set();
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
        if (pushed.has(data.id)) return acknowledge(data.id);
        pushed.add(data.id);
      }
      addAnswer({ text: data.text }, { kind: "push", pushKind: data.kind, question: lastQuestion });
      if (data.id) acknowledge(data.id);
    });
  }
})();

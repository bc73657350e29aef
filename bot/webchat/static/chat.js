"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const status = document.getElementById("status");

  function add(text, who, buttons) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;  // resident and bot text are always shown as text, never as HTML
    if (buttons && buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
    log.appendChild(div);
    div.scrollIntoView({ block: "end" });
  }

  async function send(message, shown) {
    status.textContent = "";
    add(shown, "me");
    let response;
    try {
      response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: message }),
      });
    } catch (err) {
      status.textContent = "连接不上服务器，请检查网络后再试。您输入的内容还在输入框里。";
      return false;
    }
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      status.textContent = data.error || "系统繁忙，请稍后再试。";
      return false;
    }
    (data.messages || []).forEach(function (m) {
      if (m.text || (m.buttons && m.buttons.length)) add(m.text || "", "bot", m.buttons);
    });
    return true;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) { status.textContent = "请先输入您的问题。"; input.focus(); return; }
    if (await send(text, text)) input.value = "";
  });
  document.querySelectorAll(".quick button").forEach(function (btn) {
    btn.addEventListener("click", function () { send(btn.dataset.payload, btn.textContent); });
  });
})();

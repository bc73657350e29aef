"use strict";
// Small progressive enhancements; every page works without them.
(function () {
  // A page refreshing itself says so: it keeps the page current, but is not someone at the desk,
  // so it does not keep an idle session alive. When the session has ended, go to the login page.
  async function refresh(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "X-Console-Refresh": "1" } });
    if (response.redirected && new URL(response.url).pathname.endsWith("/login")) {
      window.location.assign(response.url);
      throw new Error("logged out");
    }
    return response;
  }

  // A held conversation's transcript refreshes itself (the server renders and escapes it).
  const transcript = document.getElementById("transcript");
  if (transcript && transcript.dataset.refresh) {
    setInterval(async function () {
      try {
        const response = await refresh(transcript.dataset.refresh);
        if (response.ok) {
          const html = await response.text();
          if (html !== transcript.dataset.last) { transcript.innerHTML = html; transcript.dataset.last = html; }
        }
      } catch (err) { /* offline for a moment: try again next time */ }
    }, 3000);
  }

  // New emergencies in the inbox: a red banner (role=alert), the page title, a tone and a
  // desktop notification. Browsers only allow sound and notifications after a click, hence the
  // button; the banner and the title work without it.
  const alertBox = document.getElementById("emergency-alert");
  const title = document.title;
  let audio = null;
  function emergencies(root) {
    return Array.from(root.querySelectorAll("[data-emergency]")).map(function (row) {
      return { id: row.dataset.emergency, text: row.dataset.text || "" };
    });
  }
  function beep() {
    if (!audio || audio.state !== "running") return;
    [0, 0.35, 0.7].forEach(function (at) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.3;
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + at);
      tone.stop(audio.currentTime + at + 0.25);
    });
  }
  function raise(rows, fresh) {
    if (!alertBox || !rows.length) return;
    alertBox.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = (fresh ? "新的紧急求助" : "有紧急求助在等待") + "（" + rows.length + " 条）：";
    const link = document.createElement("a");
    link.href = "handoffs/" + rows[0].id;
    link.textContent = "去查看并接手";
    alertBox.append(strong, rows[0].text + " ", link);
    alertBox.hidden = false;
    document.title = "【紧急】" + title;
    if (!fresh) return;
    beep();
    if ("Notification" in window && Notification.permission === "granted") {
      const note = new Notification("紧急求助：有居民在等待", { body: rows[0].text, tag: "emergency-" + rows[0].id, requireInteraction: true });
      note.onclick = function () { window.focus(); note.close(); };
    }
  }
  function calm(rows) {
    if (alertBox && !rows.length) { alertBox.hidden = true; document.title = title; }
  }
  const controls = document.getElementById("alert-controls");
  const enable = document.getElementById("alert-enable");
  const alertState = document.getElementById("alert-state");
  if (controls && enable) {
    controls.hidden = false;
    enable.addEventListener("click", async function () {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (Context && !audio) audio = new Context();
      if (audio && audio.state === "suspended") await audio.resume();
      if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
      const notes = !("Notification" in window) ? "这个浏览器不支持桌面通知"
        : Notification.permission === "granted" ? "桌面通知已开启" : "桌面通知被浏览器拒绝（可在浏览器设置里允许）";
      alertState.textContent = (audio ? "提示音已开启，" : "这个浏览器不能响铃，") + notes + "。";
      enable.setAttribute("aria-pressed", "true");
      beep();
    });
  }

  // The handoff inbox updates itself (its list is not replaced while a control in it has the
  // focus; new emergencies are announced either way).
  const inbox = document.getElementById("inbox");
  if (inbox && inbox.dataset.refresh) {
    const known = new Set(emergencies(inbox).map(function (e) { return e.id; }));
    raise(emergencies(inbox), false);
    setInterval(async function () {
      try {
        const response = await refresh(inbox.dataset.refresh);
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("inbox");
        if (!fresh) return;
        const now = emergencies(fresh);
        const added = now.filter(function (e) { return !known.has(e.id); });
        now.forEach(function (e) { known.add(e.id); });
        if (added.length) raise(added, true); else calm(now);
        if (inbox.contains(document.activeElement) && document.activeElement !== document.body) return;
        if (fresh.innerHTML !== inbox.innerHTML) inbox.innerHTML = fresh.innerHTML;
      } catch (err) { /* try again */ }
    }, 15000);
  }

  // Retraining progress.
  const box = document.getElementById("retrain");
  if (box && box.dataset.statusUrl) {
    const state = document.getElementById("retrain-state");
    const bar = document.getElementById("retrain-progress");
    const pct = document.getElementById("retrain-percent");
    const acc = document.getElementById("retrain-accuracy");
    const button = document.getElementById("retrain-start");
    const running = ["training", "evaluating", "loading"];
    const fmt = function (v) { return (v === null || v === undefined) ? "" : Math.round(v * 100) + "%"; };
    async function poll() {
      try {
        const response = await refresh(box.dataset.statusUrl);
        if (!response.ok) return;
        const s = await response.json();
        state.textContent = s.message || s.state;
        state.dataset.state = s.state;
        bar.value = s.progress || 0;
        bar.textContent = (s.progress || 0) + "%";
        pct.textContent = (s.progress || 0) + "%";
        let text = "";
        if (s.old_accuracy !== null && s.old_accuracy !== undefined) text += "原模型准确率 " + fmt(s.old_accuracy);
        if (s.new_accuracy !== null && s.new_accuracy !== undefined) text += "，新模型 " + fmt(s.new_accuracy);
        acc.textContent = text;
        if (button) button.disabled = running.indexOf(s.state) >= 0 || s.state === "unavailable";
      } catch (err) { /* try again */ }
    }
    setInterval(poll, 2000);
    poll();
  }
})();

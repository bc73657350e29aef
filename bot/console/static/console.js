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

  // The handoff inbox updates itself (not while a control in it has the focus).
  const inbox = document.getElementById("inbox");
  if (inbox && inbox.dataset.refresh) {
    setInterval(async function () {
      if (inbox.contains(document.activeElement) && document.activeElement !== document.body) return;
      try {
        const response = await refresh(inbox.dataset.refresh);
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("inbox");
        if (fresh && fresh.innerHTML !== inbox.innerHTML) inbox.innerHTML = fresh.innerHTML;
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

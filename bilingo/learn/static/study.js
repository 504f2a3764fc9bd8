"use strict";
// The study page: every sentence in both languages; play one and stop at its end, or repeat it;
// blur or hide a language; a key word shows its gloss and replays its sentence. All text is set with
// textContent (never parsed as HTML), so nothing in a cue can add markup or script to the page.
const D = JSON.parse(document.getElementById("data").textContent);
const video = document.getElementById("video");
const list = document.getElementById("sentences");
const S = { current: 0, stopAt: null, repeat: false, timer: null, raf: 0, lang: { en: "show", zh: "show" } };
const MODES = ["show", "blur", "hide"];
const REPEAT_GAP_MS = 700; // a breath to say it back before the sentence plays again

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function clock(ms) {
  const m = Math.floor(ms / 60000), s = (ms % 60000) / 1000;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

// A line with its key words as buttons; spans that no longer fit the text are skipped.
function line(text, lang, sentence, index) {
  const box = el("div", lang);
  box.lang = lang === "zh" ? "zh-CN" : "en";
  const terms = sentence.terms.filter(t => t.lang === lang && 0 <= t.a && t.a < t.b && t.b <= text.length)
    .sort((x, y) => x.a - y.a);
  let at = 0;
  for (const t of terms) {
    if (t.a < at) continue;
    box.append(text.slice(at, t.a));
    const b = el("button", "kw", text.slice(t.a, t.b));
    b.title = t.gloss;
    b.addEventListener("click", e => { e.stopPropagation(); showGloss(t, index); });
    box.append(b);
    at = t.b;
  }
  box.append(text.slice(at));
  return box;
}

function build() {
  document.getElementById("title").textContent = D.name;
  document.getElementById("draft").hidden = !D.draft;
  D.sentences.forEach((s, i) => {
    const li = el("li", "s");
    li.dataset.index = i;
    li.append(el("span", "t", clock(s.start)));
    for (const lang of D.language === "zh" ? ["zh", "en"] : ["en", "zh"]) {  // the spoken line first
      const text = lang === "en" ? s.en : s.zh;
      li.append(text.trim() ? line(text, lang, s, i) : el("div", `${lang} missing`, "(no translation)"));
      if (lang === "zh" && s.py) li.append(el("div", "py", s.py));
    }
    li.addEventListener("click", () => {
      if (document.body.className.match(/(blur|hide)-/) && !li.classList.contains("peek")) li.classList.add("peek");
      playSentence(i);
    });
    list.append(li);
  });
  for (const src of D.media) {
    const source = el("source");
    source.src = src;
    video.append(source);
  }
  if (D.audio_only) document.getElementById("player").classList.add("audio");
  const notes = [];
  if (D.untranslated.length) notes.push(`No translation yet for cue${D.untranslated.length > 1 ? "s" : ""} ` +
    D.untranslated.join(", ") + ".");
  if (D.draft) notes.push("This clip is a draft: its text has not been reviewed yet.");
  if (notes.length) { const m = document.getElementById("message"); m.textContent = notes.join(" "); m.hidden = false; }
  select(0, false);
}

function select(i, scroll = true) {
  i = Math.max(0, Math.min(D.sentences.length - 1, i));
  const old = list.querySelector(".s.current");
  if (old) old.classList.remove("current");
  const li = list.children[i];
  if (!li) return;
  li.classList.add("current");
  S.current = i;
  if (scroll) li.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

// Play sentence i from its start and pause at its end (or go round again when repeating). The end is
// watched every animation frame (and by a timer, for a tab in the background), not by `timeupdate`,
// which fires only every 250 ms or so.
function playSentence(i) {
  const s = D.sentences[i];
  if (!s) return;
  select(i);
  clearTimeout(S.timer);
  S.stopAt = s.end / 1000;
  video.currentTime = s.start / 1000;
  const started = video.play();
  if (started && started.catch) started.catch(() => {});
  watch();
}

function watch() {
  cancelAnimationFrame(S.raf);
  const tick = () => {
    if (S.stopAt === null) return;
    if (video.currentTime >= S.stopAt) { reachedEnd(); return; }
    S.raf = requestAnimationFrame(tick);
    clearTimeout(S.timer);
    const left = (S.stopAt - video.currentTime) * 1000 / (video.playbackRate || 1);
    S.timer = setTimeout(() => { if (S.stopAt !== null && video.currentTime >= S.stopAt - 0.01) reachedEnd(); }, left);
  };
  S.raf = requestAnimationFrame(tick);
}

function reachedEnd() {
  cancelAnimationFrame(S.raf);
  clearTimeout(S.timer);
  video.pause();
  if (S.repeat) {
    const i = S.current;
    S.timer = setTimeout(() => { if (S.repeat && S.current === i) playSentence(i); }, REPEAT_GAP_MS);
  } else {
    S.stopAt = null;
  }
}

function stopWatching() { S.stopAt = null; cancelAnimationFrame(S.raf); clearTimeout(S.timer); }

function togglePlay() {
  if (video.paused) { stopWatching(); video.play().catch(() => {}); } else { stopWatching(); video.pause(); }
}

function setRepeat(on) {
  S.repeat = on;
  document.getElementById("repeat").setAttribute("aria-pressed", String(on));
}

function cycleLanguage(lang) {
  const next = MODES[(MODES.indexOf(S.lang[lang]) + 1) % MODES.length];
  S.lang[lang] = next;
  document.body.classList.remove(`blur-${lang}`, `hide-${lang}`);
  if (next !== "show") document.body.classList.add(`${next}-${lang}`);
  const b = document.getElementById(`lang-${lang}`);
  b.className = next === "show" ? "" : next;
  b.setAttribute("aria-label", `${lang === "en" ? "English" : "Chinese"}: ${next === "show" ? "shown" : next === "blur" ? "blurred" : "hidden"}`);
  list.querySelectorAll(".s.peek").forEach(li => li.classList.remove("peek"));
}

function togglePinyin() {
  const off = document.body.classList.toggle("no-pinyin");
  document.getElementById("pinyin").setAttribute("aria-pressed", String(!off));
}

function toggleSlow() {
  video.playbackRate = video.playbackRate === 1 ? 0.75 : 1;
  document.getElementById("slow").setAttribute("aria-pressed", String(video.playbackRate !== 1));
}

function showGloss(t, index) {
  document.getElementById("gloss-word").textContent = t.w;
  document.getElementById("gloss-text").textContent = t.gloss || "(no gloss)";
  // a dictionary's gloss may be another sense of the word than the speaker's: say where it is from
  document.getElementById("gloss-level").textContent = [t.level, t.origin === "dictionary" ? "dictionary gloss" : ""]
    .filter(Boolean).join(" · ");
  document.getElementById("gloss").hidden = false;
  playSentence(index);
}

// The sentence being played marks its row, so a learner who just presses play can follow along.
video.addEventListener("timeupdate", () => {
  const ms = video.currentTime * 1000;
  const i = D.sentences.findIndex(s => s.start <= ms && ms < s.end);
  list.querySelectorAll(".s.playing").forEach(li => li.classList.remove("playing"));
  if (i >= 0) {
    list.children[i].classList.add("playing");
    if (S.stopAt === null && !video.paused && i !== S.current) select(i);
  }
});
video.addEventListener("seeking", () => { if (S.stopAt !== null && !video.paused) watch(); });

document.getElementById("play").addEventListener("click", () => playSentence(S.current));
document.getElementById("repeat").addEventListener("click", () => setRepeat(!S.repeat));
document.getElementById("slow").addEventListener("click", toggleSlow);
document.getElementById("lang-en").addEventListener("click", () => cycleLanguage("en"));
document.getElementById("lang-zh").addEventListener("click", () => cycleLanguage("zh"));
document.getElementById("pinyin").addEventListener("click", togglePinyin);
document.getElementById("gloss-close").addEventListener("click", () => { document.getElementById("gloss").hidden = true; });

// Keys as on the review page: J/K or Alt+↓/↑ move, P plays the sentence, Space plays or pauses.
document.addEventListener("keydown", e => {
  if (e.ctrlKey || e.metaKey || e.target.closest("input, textarea, select")) return;
  const key = e.key.toLowerCase();
  const plain = !e.altKey;
  const act = {
    j: () => select(S.current + 1), k: () => select(S.current - 1),
    p: () => playSentence(S.current), enter: () => playSentence(S.current), r: () => setRepeat(!S.repeat),
    " ": togglePlay, e: () => cycleLanguage("en"), c: () => cycleLanguage("zh"), y: togglePinyin, s: toggleSlow,
    escape: () => { document.getElementById("gloss").hidden = true; },
  };
  let action = plain ? act[key] : null;
  if (e.key === "ArrowDown" && (e.altKey || !e.target.closest("button"))) action = act.j;
  if (e.key === "ArrowUp" && (e.altKey || !e.target.closest("button"))) action = act.k;
  if (key === " " || key === "enter") { if (e.target.closest("button")) return; }
  if (action) { e.preventDefault(); action(); }
});

build();

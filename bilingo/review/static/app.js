// bilingo review page: plays the recording with the captions overlaid as they will be burned, edits cues,
// lints as you type, saves against the document's revision, previews a real ffmpeg still, approves,
// shows and changes the clip's render plan (presets, style), and renders it with progress and outputs.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const S = { clip: null, cues: [], violations: [], lines: [], current: 0, dirty: false, index: null, lintTimer: null,
            lintSeq: 0, view: "", render: null, pollTimer: null, outputsKey: "" };
const NUDGE = 100, MIN_GAP = 80;

async function api(path, body) {
  const opts = { headers: { "X-Bilingo-Token": token } };
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (!res.ok) {
    let message = res.statusText;
    try { message = (await res.json()).error || message; } catch (_) { /* not JSON */ }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return (res.headers.get("Content-Type") || "").startsWith("application/json") ? res.json() : res.blob();
}

function say(text, kind = "", extra = null) {
  const box = $("message");
  box.textContent = text;
  box.className = kind;
  box.hidden = !text;
  if (extra) { box.append(" "); box.append(extra); }
  fitSide();
}

// The cue list ends at the window's bottom whatever the header and message above it take.
function fitSide() {
  const above = document.querySelector("header").offsetHeight + $("message").offsetHeight;
  document.documentElement.style.setProperty("--above", `${above + 28}px`);
}

function fmt(ms) {
  const neg = ms < 0 ? "-" : "";
  ms = Math.abs(Math.round(ms));
  const m = Math.floor(ms / 60000), s = Math.floor(ms / 1000) % 60, r = ms % 1000;
  return `${neg}${m}:${String(s).padStart(2, "0")}.${String(r).padStart(3, "0")}`;
}

// ---- folder view -------------------------------------------------------------------------------

async function showFolder() {
  const clips = await api("/api/clips");
  if (clips.length === 1 && !(S.clip && S.clip.folder) && !location.hash) return openClip(0);
  $("clip").hidden = true; $("folder").hidden = false; $("actions").hidden = true; $("home").hidden = true;
  $("state").textContent = ""; $("state").className = "badge"; $("title").textContent = "bilingo review: clips";
  const body = $("clips").querySelector("tbody");
  body.replaceChildren(...clips.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.index = c.index;
    const cells = [c.name, "", c.cues ?? "", c.edited ?? "", c.hard ?? "", c.by ? `${c.by}, ${c.at}` : "",
                   (c.presets || []).join(", ")];
    cells.forEach((v, i) => {
      const td = document.createElement("td");
      if (i === 1) { const b = document.createElement("span"); b.className = `badge ${c.state}`; b.textContent = c.state; td.append(b); }
      else td.textContent = v;
      tr.append(td);
    });
    if (c.error) tr.title = c.error;
    tr.addEventListener("click", () => { location.hash = `#clip=${c.index}`; });
    return tr;
  }));
}

// ---- clip view ---------------------------------------------------------------------------------

function clipUrl(index) {
  return `/api/clips/${index}` + (S.view ? `?view=${encodeURIComponent(S.view)}` : "");
}

async function openClip(index) {
  if (index !== S.index) { S.view = ""; S.outputsKey = ""; }
  const clip = await api(clipUrl(index));
  S.index = index;
  load(clip);
  loadKeyWords(index);
  $("folder").hidden = true; $("clip").hidden = false; $("actions").hidden = false;
  $("home").hidden = !(clip.folder || clip.clips > 1);
  const video = $("video");
  video.src = `/api/clips/${index}/media?token=${encodeURIComponent(token)}`;
  if (clip.has_video) $("backdrop").src = video.src; else $("backdrop").removeAttribute("src");
  select(0, false);
  if (clip.edited_sidecars.length) {
    say(`${clip.edited_sidecars.join(", ")} changed outside bilingo: bring those edits in with ` +
        `\`bilingo import ${clip.document} ${clip.edited_sidecars.join(" ")}\` before editing here.`);
  }
}

function load(clip) {
  S.clip = clip;
  S.cues = clip.cues.map((c) => ({ ...c }));
  S.violations = clip.violations;
  S.lines = clip.lines;
  S.karaoke = clip.karaoke;
  S.rows = clip.rows;
  S.current = Math.min(S.current, Math.max(S.cues.length - 1, 0));
  setDirty(false);
  showState();
  showLook(clip.preset);
  showPlan(clip);
  showRender(clip.render);
  renderCues();
  fitSide();
  drawOverlay();
}

// The frame the page shows: the preset's shape, scaled to fit the window (see #stage-col in style.css).
function showLook(preset) {
  S.clip.preset = preset;
  $("title").textContent = `${S.clip.name} · ${preset.label}`;
  $("stage-col").style.setProperty("--ar", String(preset.width / preset.height));
  $("stage").style.aspectRatio = `${preset.width} / ${preset.height}`;
  // the picture framed as the render frames it: blurred fill, centre crop or letterbox
  const fit = S.clip.has_video ? preset.fit : "none";
  $("video").style.objectFit = fit === "crop" ? "cover" : "contain";
  $("stage").style.background = fit === "blur" ? "#000" : preset.background;
  $("backdrop").hidden = fit !== "blur";
  const look = `${preset.id} ${preset.style_name}`;
  if (look !== S.look) $("preview").hidden = true;  // a still of another look would mislead
  S.look = look;
}

function showState() {
  const st = S.clip.state, badge = $("state");
  badge.className = `badge ${st}`;
  badge.textContent = st === "approved" ? `approved by ${S.clip.review.by}` : st;
  badge.title = st === "approved" ? `approved by ${S.clip.review.by} at ${S.clip.review.at}` : "";
}

function setDirty(dirty) {
  S.dirty = dirty;
  $("dirty").hidden = !dirty;
  if (dirty && S.clip && S.clip.review.state === "approved") {
    say("This clip is approved: saving a change to text or timing returns it to draft, to be approved again.");
  }
}

function languages() {
  return S.clip.language === "zh" ? ["zh", "en"] : ["en", "zh"];
}

function renderCues() {
  const list = $("cues");
  list.replaceChildren(...S.cues.map((cue, i) => cueItem(cue, i)));
  markCurrent();
}

function button(label, title, onclick) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = label; b.title = title;
  b.addEventListener("click", (e) => { e.stopPropagation(); onclick(); });
  return b;
}

function cueItem(cue, i) {
  const li = document.createElement("li");
  li.className = "cue"; li.dataset.index = i; li.dataset.id = cue.id;
  const row = document.createElement("div"); row.className = "row";
  const num = document.createElement("span"); num.className = "num"; num.textContent = i + 1;
  const start = document.createElement("span"); start.className = "time start"; start.textContent = fmt(cue.start);
  const end = document.createElement("span"); end.className = "time end"; end.textContent = fmt(cue.end);
  row.append(num,
    button("−", "start 100 ms earlier", () => retime(i, "start", -NUDGE)), start,
    button("+", "start 100 ms later", () => retime(i, "start", NUDGE)),
    button("⇤", "start at the playhead", () => retime(i, "start", null)),
    document.createTextNode("→"),
    button("−", "end 100 ms earlier", () => retime(i, "end", -NUDGE)), end,
    button("+", "end 100 ms later", () => retime(i, "end", NUDGE)),
    button("⇥", "end at the playhead", () => retime(i, "end", null)),
    button("split", "split this cue at the playhead (or in the middle)", () => split(i)),
    button("merge ↓", "merge with the next cue", () => merge(i)));
  const tags = document.createElement("span"); tags.className = "tags";
  for (const f of cue.flags) { const t = document.createElement("span"); t.className = `tag ${f === "machine-translation" ? "machine" : f === "untranslated" ? "untranslated" : ""}`; t.textContent = f === "machine-translation" ? "machine" : f; tags.append(t); }
  for (const l of cue.edited) { const t = document.createElement("span"); t.className = "tag edited"; t.textContent = `${l} edited`; tags.append(t); }
  row.append(tags, languageSelect(cue, i));
  li.append(row);
  for (const lang of languages()) {
    const ta = document.createElement("textarea");
    ta.lang = lang === "zh" ? "zh-Hans" : "en"; ta.dataset.lang = lang; ta.rows = 2;
    ta.setAttribute("aria-label", `cue ${i + 1} ${lang === "zh" ? "Chinese" : "English"}`);
    ta.placeholder = lang === "zh" ? "中文" : "English";
    ta.value = cue[lang];
    ta.addEventListener("input", () => { S.cues[i][lang] = ta.value; setDirty(true); lintSoon(); });
    ta.addEventListener("focus", () => select(i, !S.playing));
    li.append(ta);
  }
  li.append(keyWordList(cue, i));
  const warn = document.createElement("ul"); warn.className = "warn";
  li.append(warn);
  fillWarnings(li, i);
  li.addEventListener("click", () => select(i, true));
  return li;
}

// The language the cue was spoken in (a recording may mix them): its text in that language is the source,
// and changing it translates that cue again on save (the memory, then the clip's translator); a cue
// nothing could translate is flagged "untranslated" and the message says what to do.
const SPOKEN = { en: "spoken: English", zh: "spoken: 中文" };

function languageSelect(cue, i) {
  const sel = document.createElement("select");
  sel.className = `lang ${cue.lang}`; sel.title = "the language spoken in this cue";
  sel.setAttribute("aria-label", `cue ${i + 1} spoken language`);
  for (const [value, label] of Object.entries(SPOKEN)) sel.add(new Option(label, value, false, value === cue.lang));
  sel.addEventListener("click", (e) => e.stopPropagation());
  sel.addEventListener("change", () => {
    S.cues[i].lang = sel.value; sel.className = `lang ${sel.value}`; setDirty(true);
    say(`Cue ${i + 1} is now ${sel.value === "zh" ? "Mandarin" : "English"} speech: once saved, its ` +
        `${sel.value === "zh" ? "English" : "Chinese"} translation is made again.`);
  });
  return sel;
}

function fillWarnings(li, i) {
  const found = S.violations[i] || [];
  const warn = li.querySelector("ul.warn");
  warn.replaceChildren(...found.map((v) => {
    const item = document.createElement("li");
    item.className = v.hard ? "hard" : ""; item.textContent = v.text.replace(/^cue \d+/, "").replace(/^:\s*/, "");
    return item;
  }));
  li.classList.toggle("bad", found.some((v) => v.hard));
}

function refreshRow(i) {
  const li = $("cues").children[i];
  if (!li) return;
  li.querySelector(".start").textContent = fmt(S.cues[i].start);
  li.querySelector(".end").textContent = fmt(S.cues[i].end);
}

function markCurrent() {
  [...$("cues").children].forEach((li, i) => li.classList.toggle("current", i === S.current));
}

function select(i, seek = true) {
  if (!S.cues.length) return;
  S.current = Math.max(0, Math.min(i, S.cues.length - 1));
  markCurrent();
  const li = $("cues").children[S.current];
  if (li) li.scrollIntoView({ block: "nearest" });
  if (seek) {
    const v = $("video");
    const c = S.cues[S.current];
    if (v.readyState > 0 && (v.currentTime * 1000 < c.start || v.currentTime * 1000 >= c.end)) v.currentTime = (c.start + 1) / 1000;
  }
  drawOverlay();
}

function playhead() { return Math.round($("video").currentTime * 1000); }

function retime(i, edge, delta) {
  const c = S.cues[i];
  const value = delta === null ? playhead() : c[edge] + delta;
  if (edge === "start" && value >= c.end) return say("A cue must start before it ends.", "error");
  if (edge === "end" && value <= c.start) return say("A cue must end after it starts.", "error");
  c[edge] = Math.max(0, value);
  setDirty(true); refreshRow(i); lintSoon(); drawOverlay();
}

function splitText(text, ratio, lang) {
  if (lang === "zh") { const k = Math.round(text.length * ratio); return [text.slice(0, k), text.slice(k)]; }
  const words = text.split(/\s+/).filter(Boolean);
  let best = 0, bestDist = Infinity, seen = 0;
  const total = words.join(" ").length || 1;
  for (let k = 0; k <= words.length; k++) {
    const d = Math.abs(seen / total - ratio);
    if (d < bestDist) { best = k; bestDist = d; }
    if (k < words.length) seen += words[k].length + 1;
  }
  return [words.slice(0, best).join(" "), words.slice(best).join(" ")];
}

function split(i) {
  const c = S.cues[i];
  let t = playhead();
  if (!(t > c.start + 200 && t < c.end - 200 - MIN_GAP)) t = Math.round((c.start + c.end - MIN_GAP) / 2);
  if (t - c.start < 100 || c.end - (t + MIN_GAP) < 100) return say("This cue is too short to split.", "error");
  const ratio = (t - c.start) / (c.end - c.start);
  const second = { id: "", start: t + MIN_GAP, end: c.end, en: "", zh: "", flags: [], edited: [] };
  for (const lang of ["en", "zh"]) [c[lang], second[lang]] = splitText(c[lang], ratio, lang);
  c.end = t;
  S.cues.splice(i + 1, 0, second);
  S.violations.splice(i + 1, 0, []); S.lines.splice(i + 1, 0, {}); S.karaoke.splice(i + 1, 0, null);
  S.rows.splice(i + 1, 0, []);
  setDirty(true); renderCues(); lintSoon(); select(i, false);
}

function merge(i) {
  if (i + 1 >= S.cues.length) return say("There is no next cue to merge with.", "error");
  const a = S.cues[i], b = S.cues[i + 1];
  a.end = b.end;
  a.en = [a.en, b.en].map((t) => t.trim()).filter(Boolean).join(" ");
  a.zh = a.zh.trim() + b.zh.trim();
  S.cues.splice(i + 1, 1); S.violations.splice(i + 1, 1); S.lines.splice(i + 1, 1); S.karaoke.splice(i + 1, 1);
  S.rows.splice(i + 1, 1);
  setDirty(true); renderCues(); lintSoon(); select(i, false);
}

// ---- the render plan -----------------------------------------------------------------------------

function showPlan(clip) {
  const plan = clip.plan, choices = clip.choices;
  const canonical = (name) => choices.aliases[name] || name;
  const other = [];
  if (plan.karaoke) other.push("karaoke");
  if (plan.fit) other.push(`fit ${plan.fit}`);
  if (plan.trim) other.push("trim");
  if (plan.speed) other.push(`speed ${plan.speed}`);
  if (plan.crf !== null && plan.crf !== undefined) other.push(`crf ${plan.crf}`);
  if (plan.background) other.push(`background ${plan.background}`);
  // the learner aids: the shadowing edition is a second video per preset, so Render's outputs say so too
  if (plan.key_words) other.push("key words");
  if (plan.pinyin) other.push("pinyin");
  if (plan.edition) {
    const slower = plan.repeat > 1 && plan.repeat_tempo !== 1 ? ` at ${plan.repeat_tempo}×` : "";
    other.push(`${plan.edition} edition${plan.repeat > 1 ? ` ×${plan.repeat}` : ""}${slower}`);
  }
  if (plan.end_card) other.push("end card");
  $("plan-summary").textContent = `Plan: ${plan.presets.join(", ")} · ${plan.style ? `style ${plan.style}` :
    "each preset's style"}${other.length ? " · " + other.join(" · ") : ""}`;
  $("plan-other").textContent = [other.length ? `Also: ${other.join(", ")} (change them with \`bilingo render\`'s flags).` : "",
    plan.presets_file ? `Presets file: ${plan.presets_file}` : ""].filter(Boolean).join(" ");
  const named = Object.fromEntries(plan.presets.map((n) => [canonical(n), n]));  // keep the plan's own names
  $("plan-presets").replaceChildren(Object.assign(document.createElement("b"), { textContent: "Presets:" }),
    ...choices.presets.map((p) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox"; box.value = named[p.id] || p.id; box.checked = p.id in named;
      label.title = `${p.label}, ${p.width}×${p.height}, style ${p.style}`;
      label.append(box, ` ${box.value} (${p.width}×${p.height})`);
      return label;
    }));
  const style = $("plan-style");
  style.replaceChildren(new Option("each preset's own", ""), ...choices.styles.map((n) => new Option(n, n)));
  style.value = plan.style || "";
  const view = $("view");
  const shown = [...plan.presets];
  if (!shown.includes(clip.preset.id)) shown.push(clip.preset.id);
  view.replaceChildren(...shown.map((n) => new Option(n, n)));
  view.value = clip.preset.id;
}

async function changeView() {
  S.view = $("view").value;
  try {
    const clip = await api(clipUrl(S.index));
    showLook(clip.preset);
    if (S.dirty) lintNow();
    else { S.lines = clip.lines; S.rows = clip.rows; S.violations = clip.violations; S.karaoke = clip.karaoke; drawOverlay(); }
  } catch (err) { say(`Could not show ${S.view}: ${err.message}`, "error"); }
}

async function savePlan() {
  if (S.dirty && !(await save())) return;
  const presets = [...document.querySelectorAll("#plan-presets input:checked")].map((b) => b.value);
  if (!presets.length) return say("Choose at least one preset.", "error");
  try {
    await api(`/api/clips/${S.index}/plan`, { revision: S.clip.revision, presets, style: $("plan-style").value || null });
    if (!presets.includes(S.view)) S.view = "";
    load(await api(clipUrl(S.index)));
    say(`Plan saved: Render makes ${presets.join(", ")}.`, "ok");
  } catch (err) { say(`Plan not saved: ${err.message}`, "error"); }
}

// ---- rendering -----------------------------------------------------------------------------------

function active(job) { return !!job && (job.state === "queued" || job.state === "running"); }

function jobText(job) {
  if (job.state === "queued") return "waiting for another clip's render to finish";
  if (job.state === "running") return `${job.stage || "starting"} · ${Math.round(job.fraction * 100)}%`;
  if (job.state === "done") return `rendered in ${job.seconds} s`;
  return job.error || job.state;
}

function showRender(status) {
  const was = S.render && S.render.job, job = status.job;
  S.render = status;
  const panel = $("render-panel");
  panel.hidden = !job && !status.outputs.length;
  panel.classList.toggle("failed", !!job && (job.state === "failed" || job.state === "stopped"));
  $("render-progress").hidden = !job;
  $("render-progress").value = job ? (job.state === "done" ? 1 : job.fraction) : 0;
  $("render-stage").textContent = job ? jobText(job) : "Outputs of the last render:";
  const btn = $("render");
  btn.disabled = active(job) || S.clip.review.state !== "approved";
  btn.textContent = active(job) ? `Rendering… ${Math.round(job.fraction * 100)}%` : "Render";
  btn.title = S.clip.review.state !== "approved" ? "Approve the clip first: only an approved clip is rendered"
    : "Render the plan's videos";
  fillOutputs(status.outputs, job ? job.id : 0);
  if (active(job)) pollSoon();
  else if (was && active(was) && job && job.id === was.id) {
    if (job.state === "done") say(`Rendered ${status.outputs.map((o) => o.file).join(", ")}.`, "ok");
    else say(`Not rendered: ${job.error}`, "error");
    caughtUp();
  }
}

// A render saves the clip document (what it made, the plan): the page takes the new revision, so that
// its next save is not refused as stale. Edits typed meanwhile are kept when the cues did not change.
async function caughtUp() {
  try {
    const clip = await api(clipUrl(S.index));
    if (!S.dirty) load(clip);
    else if (JSON.stringify(clip.cues) === JSON.stringify(S.clip.cues)) S.clip.revision = clip.revision;
  } catch (err) { say(`Could not reload the clip: ${err.message}`, "error"); }
}

function pollSoon() {
  clearTimeout(S.pollTimer);
  const index = S.index;
  S.pollTimer = setTimeout(async () => {
    try { const status = await api(`/api/clips/${index}/render`); if (index === S.index) showRender(status); }
    catch (err) { say(`Lost track of the render: ${err.message}`, "error"); }
  }, 500);
}

function size(bytes) { return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`; }

function fillOutputs(outputs, jobId) {
  const key = JSON.stringify([jobId, outputs.map((o) => [o.file, o.bytes, o.current])]);
  if (key === S.outputsKey) return;  // unchanged: a playing video is left playing
  S.outputsKey = key;
  const q = `?token=${encodeURIComponent(token)}&v=${jobId}`;
  $("outputs").replaceChildren(...outputs.map((o) => {
    const li = document.createElement("li");
    li.dataset.preset = o.preset;
    const v = document.createElement("video");
    v.controls = true; v.preload = "metadata"; v.src = o.url + q;
    if (o.cover) v.poster = o.cover + q;
    const cap = document.createElement("div");
    cap.className = "output-cap";
    cap.textContent = `${o.file} · ${size(o.bytes)} · ${fmt(o.duration)} · ${o.width}×${o.height}`;
    li.append(v, cap);
    if (o.current === false) {  // the cues or the plan changed since: Render makes it again
      li.classList.add("stale");
      const note = document.createElement("div"); note.className = "output-stale";
      note.textContent = "out of date: made before the latest edits or plan; Render makes it again";
      li.append(note);
    }
    return li;
  }));
}

async function render() {
  if (S.dirty && !(await save())) return;
  try {
    const status = await api(`/api/clips/${S.index}/render`, { revision: S.clip.revision });
    if (!status.started) say("This clip is already rendering: its progress is shown below the plan.");
    showRender(status);
  } catch (err) { say(`Not rendered: ${err.message}`, "error"); }
}

// ---- linting and the overlay ---------------------------------------------------------------------

function edits() { return S.cues.map(({ id, start, end, en, zh, lang }) => ({ id, start, end, en, zh, lang })); }

function lintSoon() {
  clearTimeout(S.lintTimer);
  S.lintTimer = setTimeout(lintNow, 200);
}

async function lintNow() {
  const seq = ++S.lintSeq;
  try {
    const found = await api(`/api/clips/${S.index}/lint`, { cues: edits(), view: S.clip.preset.id });
    if (seq !== S.lintSeq) return; // a newer edit is being checked
    S.violations = found.violations; S.lines = found.lines; S.karaoke = found.karaoke; S.rows = found.rows;
    [...$("cues").children].forEach((li, i) => fillWarnings(li, i));
    drawOverlay();
  } catch (err) { say(`Could not check the cues: ${err.message}`, "error"); }
}

function cueAt(ms) {
  return S.cues.findIndex((c) => c.start <= ms && ms < c.end);
}

function drawOverlay() {
  const overlay = $("overlay");
  if (!S.clip) return;
  const at = cueAt(playhead());
  const i = at >= 0 ? at : ($("video").paused ? S.current : -1);
  overlay.replaceChildren();
  if (i < 0 || !S.rows[i]) return;
  // each row (language, pinyin, gloss) where the ASS writer puts it (ass.rows), in the plan's style
  const p = S.clip.preset, st = p.style, scale = $("stage").clientWidth / p.width;
  const boxed = st.border === "box";
  for (const row of S.rows[i]) {
    const ev = document.createElement("div");
    ev.className = `event ${row.kind}`; ev.lang = row.kind === "zh" ? "zh-Hans" : "en";
    const o = row.outline * scale, sh = st.shadow_px * scale;
    const sung = row.kind === "en" && S.karaoke[i];  // karaoke: the words spoken so far in the highlight colour
    row.lines.forEach((text, n) => {
      const line = document.createElement("span"), inner = document.createElement("span");
      line.className = "line";
      if (sung && sung[n]) {
        // a key word waits in the key-word colour until it is swept (the line is its words, one space apart)
        const marks = (row.marks && row.marks[n]) || [];
        let pos = 0;
        sung[n].forEach(([word, start], k) => {
          const w = document.createElement("span");
          w.className = "word"; w.textContent = (k ? " " : "") + word;
          const end = pos + [...word].length;
          if (marks.some(([a, b]) => a < end && pos < b)) { w.classList.add("kw"); w.style.color = st.keyword; }
          pos = end + 1;
          if (playhead() >= start) { w.classList.add("spoken"); w.style.color = st.highlight; }
          inner.append(w);
        });
      } else if (row.marks && row.marks[n] && row.marks[n].length) {
        // key words in the style's key-word colour, where the ASS writer colours them (spans in code points)
        const chars = [...text];
        let at = 0;
        for (const [a, b] of row.marks[n]) {
          const kw = document.createElement("span");
          kw.className = "kw"; kw.textContent = chars.slice(a, b).join(""); kw.style.color = st.keyword;
          inner.append(chars.slice(at, a).join(""), kw);
          at = b;
        }
        inner.append(chars.slice(at).join(""));
      } else inner.textContent = text;
      if (boxed) { inner.style.background = st.box; inner.style.padding = `${o}px`; inner.style.margin = `${-o}px 0`; }
      line.append(inner);
      ev.append(line);
    });
    ev.style.bottom = `${row.margin * scale}px`;
    ev.style.color = st.text;
    ev.style.fontWeight = st.bold ? "700" : "400";
    ev.style.fontSize = `${row.em * scale}px`;
    ev.style.lineHeight = `${row.size * p.line_height * scale}px`;
    ev.style.padding = `0 ${p.margin_sides * scale}px`;
    const ring = boxed ? [] : [[-o, 0], [o, 0], [0, -o], [0, o], [-o, -o], [o, o], [-o, o], [o, -o]]
      .map(([x, y]) => `${x}px ${y}px 0 ${st.outline}`);
    if (sh) ring.push(`${sh}px ${sh}px 0 rgba(0,0,0,.5)`);
    ev.style.textShadow = ring.join(",") || "none";
    overlay.append(ev);
  }
}

function followBackdrop() {
  const v = $("video"), b = $("backdrop");
  if (b.hidden || !b.src) return;
  if (Math.abs(b.currentTime - v.currentTime) > 0.25) b.currentTime = v.currentTime;
  if (v.paused !== b.paused) { if (v.paused) b.pause(); else b.play().catch(() => {}); }
}

function tick() {
  const v = $("video");
  followBackdrop();
  $("clock").textContent = `${fmt(playhead())} / ${fmt(S.clip ? S.clip.duration : 0)}`;
  if (S.clip && S.clip.duration && !S.seeking) $("seek").value = Math.round(1000 * playhead() / S.clip.duration);
  $("playpause").textContent = v.paused ? "▶" : "⏸";
  const at = cueAt(playhead());
  if (at >= 0 && at !== S.current && !v.paused) { S.current = at; markCurrent(); }
  if (S.stopAt !== undefined && playhead() >= S.stopAt) { v.pause(); S.stopAt = undefined; }
  drawOverlay();
  if (!v.paused) requestAnimationFrame(tick);
}

// ---- actions -----------------------------------------------------------------------------------

function playCue() {
  const c = S.cues[S.current];
  if (!c) return;
  const v = $("video");
  v.currentTime = c.start / 1000;
  S.stopAt = c.end;
  v.play();
}

async function save() {
  const wasApproved = S.clip.review.state === "approved";
  try {
    const clip = await api(`/api/clips/${S.index}/save`, { revision: S.clip.revision, cues: edits() });
    load(clip);
    const saved = wasApproved && clip.review.state !== "approved"
      ? "Saved. The clip is a draft again: approve it once you are happy." : `Saved (revision ${clip.revision}).`;
    // a cue whose spoken language changed was translated again, or is left untranslated: say which
    const left = clip.notice && clip.notice.includes("untranslated");
    say(clip.notice ? `${saved} ${clip.notice[0].toUpperCase()}${clip.notice.slice(1)}.` : saved, left ? "warn" : "ok");
    return true;
  } catch (err) {
    say(`Not saved: ${err.message}`, "error");
    return false;
  }
}

async function approve(force = false) {
  if (S.dirty && !(await save())) return;
  try {
    const clip = await api(`/api/clips/${S.index}/approve`, { revision: S.clip.revision, force });
    load(clip);
    say(`Approved by ${clip.review.by} at ${clip.review.at}: \`bilingo render\` will burn exactly this.`, "ok");
  } catch (err) {
    if (err.status === 422) {
      const anyway = button("approve anyway", "approve although a hard rule is broken", () => approve(true));
      say(err.message, "error", anyway);
    } else say(`Not approved: ${err.message}`, "error");
  }
}

async function preview() {
  const btn = $("preview-btn");
  btn.disabled = true; btn.textContent = "Rendering…";
  try {
    const blob = await api(`/api/clips/${S.index}/preview`, { cues: edits(), index: S.current, at: playhead(),
                                                              view: S.clip.preset.id });
    const img = $("preview-img");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    $("preview-cap").textContent = `Cue ${S.current + 1} rendered by ffmpeg/libass: ${S.clip.preset.id}, style ` +
      `${S.clip.preset.style_name}, the caption font.`;
    $("preview").hidden = false;
  } catch (err) { say(`No preview: ${err.message}`, "error"); }
  finally { btn.disabled = false; btn.textContent = "Preview still"; }
}

function typing(e) { return ["TEXTAREA", "INPUT"].includes(e.target.tagName); }

document.addEventListener("keydown", (e) => {
  if ($("clip").hidden) return;
  const key = e.key.toLowerCase();
  if ((e.ctrlKey || e.metaKey) && key === "s") { e.preventDefault(); save(); return; }
  const plain = !typing(e) && !e.ctrlKey && !e.metaKey && !e.altKey;
  if ((e.altKey && e.key === "ArrowDown") || (plain && key === "j")) { e.preventDefault(); select(S.current + 1); }
  else if ((e.altKey && e.key === "ArrowUp") || (plain && key === "k")) { e.preventDefault(); select(S.current - 1); }
  else if ((e.altKey && key === "p") || (plain && key === "p")) { e.preventDefault(); playCue(); }
  else if ((e.altKey && key === "a") || (plain && key === "a")) { e.preventDefault(); approve(); }
  else if (plain && key === " ") { e.preventDefault(); togglePlay(); }
});

window.addEventListener("beforeunload", (e) => { if (S.dirty) { e.preventDefault(); e.returnValue = ""; } });
window.addEventListener("resize", () => { fitSide(); drawOverlay(); });
window.addEventListener("hashchange", route);

function route() {
  const m = location.hash.match(/^#clip=(\d+)$/);
  (m ? openClip(Number(m[1])) : showFolder()).catch((err) => say(err.message, "error"));
}

$("save").addEventListener("click", save);
$("render").addEventListener("click", render);
$("plan-save").addEventListener("click", savePlan);
$("view").addEventListener("change", changeView);
$("approve").addEventListener("click", () => approve());
$("preview-btn").addEventListener("click", preview);
$("prev").addEventListener("click", () => select(S.current - 1));
$("next").addEventListener("click", () => select(S.current + 1));
$("play").addEventListener("click", playCue);
function togglePlay() { const v = $("video"); S.stopAt = undefined; if (v.paused) v.play(); else v.pause(); }
$("playpause").addEventListener("click", togglePlay);
$("seek").addEventListener("input", () => {
  S.seeking = true;
  $("video").currentTime = (Number($("seek").value) / 1000) * (S.clip.duration / 1000);
});
$("seek").addEventListener("change", () => { S.seeking = false; });
$("home").addEventListener("click", (e) => { e.preventDefault(); location.hash = ""; showFolder(); });
const video = $("video");
video.addEventListener("play", () => { S.playing = true; requestAnimationFrame(tick); });
video.addEventListener("pause", () => { S.playing = false; tick(); });
video.addEventListener("seeked", tick);
video.addEventListener("loadedmetadata", () => { select(S.current); tick(); });

if (!token) say("This page needs the URL bilingo printed (it carries the session token).", "error");
else route();

// --- key words (learner aids, bilingo.learn): listed per cue; a person adds, removes or re-glosses one ---
// Their own endpoint, saved against the document's revision; a person's choice wins on every rerun.

S.keywords = {};

async function loadKeyWords(index) {
  try {
    S.keywords = (await api(`/api/clips/${index}/keywords`)).cues || {};
  } catch (err) { S.keywords = {}; return; }
  renderCues();
}

function keyWordList(cue, i) {
  const box = document.createElement("div"); box.className = "keywords";
  box.addEventListener("click", (e) => e.stopPropagation());
  for (const k of S.keywords[cue.id] || []) {
    const chip = document.createElement("span"); chip.className = `kw ${k.person ? "person" : ""}`;
    const word = document.createElement("b"); word.textContent = k.word;
    word.title = [k.level, k.origin === "dictionary" ? "dictionary gloss (CC-CEDICT)" : k.origin].filter(Boolean).join(" · ");
    const gloss = document.createElement("input"); gloss.className = "kw-gloss"; gloss.value = k.gloss;
    gloss.setAttribute("aria-label", `gloss of ${k.word}`); gloss.size = Math.max(4, [...k.gloss].reduce((n, ch) => n + (ch.codePointAt(0) > 0x2e80 ? 2 : 1), 1));
    gloss.addEventListener("change", () => keyWordEdit(cue, "gloss", k.word, gloss.value));
    chip.append(word, gloss, button("✕", `remove the key word ${k.word}`, () => keyWordEdit(cue, "remove", k.word)));
    box.append(chip);
  }
  const add = document.createElement("input"); add.className = "kw-add"; add.placeholder = "+ key word";
  add.setAttribute("aria-label", `cue ${i + 1} add a key word`);
  add.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && add.value.trim()) { e.preventDefault(); keyWordEdit(cue, "add", add.value.trim()); }
  });
  box.append(add);
  return box;
}

async function keyWordEdit(cue, action, word, gloss = "") {
  if (S.dirty) { say("Save your cue edits first: key words are saved on their own."); return; }
  try {
    const res = await api(`/api/clips/${S.index}/keywords`,
                          { revision: S.clip.revision, cue: cue.id, action, word, gloss });
    S.keywords = res.cues; S.clip.revision = res.revision;
    renderCues();
    say(`key word ${word}: ${action === "remove" ? "removed" : "saved"}`, "ok");
  } catch (err) { say(err.message, "error"); }
}

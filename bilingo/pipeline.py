"""One recording through every stage: probe → audio → transcript → cues → translation → outputs.

The clip document beside the outputs is the source of truth: when it exists for the same audio,
a run reuses it (and any review edits in it) instead of transcribing again, and only renders
what is missing or out of date. Outputs are staged in a hidden folder and renamed into place,
so a failed run leaves the output folder as it found it.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import msgspec

from . import __version__, media, segment, subtitles
from .errors import BilingoError, ExitCode, TranslatorUnavailable
from .fsutil import atomic_write_text, staging_dir, sweep_leftovers
from .model import ClipDocument, Source, Transcript
from .progress import Reporter
from .render import ass, colours, presets, verify, video
from .transcribe import TranscribeOptions, transcribe
from .transcribe.models import cache_dir, resolve
from .translate import translate_cues
from .translate.memory import TranslationMemory
from .translate.providers import Translator
from .translate.whisper import WhisperTranslator

RENDER_VERSION = 2  # bump when a change to rendering should redo finished outputs


@dataclass
class RunOptions:
    out_dir: Path
    presets: tuple[str, ...] = ("linkedin",)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    translator: str = "google"
    memory_files: tuple[Path, ...] = ()
    presets_file: Path | None = None
    background: str | None = None  # colour or image for audio-only recordings; None: the preset's
    fit: str | None = None  # blur, crop or letterbox; None: the preset's
    trim: bool = False  # cut a recording longer than a preset allows, instead of skipping that preset
    karaoke: bool = False  # English line highlighted word by word
    style: str | None = None  # caption style for every preset; None: each preset's
    speed: str | None = None  # x264 preset for every output; None: each preset's
    crf: int | None = None  # x264 CRF for every output; None: each preset's


@dataclass
class RunResult:
    document: Path
    outputs: list[Path] = field(default_factory=list)
    captions: list[Path] = field(default_factory=list)
    transcript_cached: bool = False
    reused_document: bool = False
    render_log: dict[str, str] = field(default_factory=dict)
    covers: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # presets this recording cannot be rendered for


def output_stem(clip: Path) -> str:
    return clip.stem or clip.name


def run(clip: Path, opts: RunOptions, report: Reporter) -> RunResult:
    catalogue, chosen = _presets(opts)  # a typo fails before any work
    backdrop = _background(opts.background)
    with report.stage("probe"):
        info = media.probe(clip)
    if opts.background and info.has_video:
        report.say(f"note: --background is for audio-only recordings; {info.path.name} has video, so it is not used")
    _check_durations(info, chosen, opts.trim)  # nothing fits: fail before extracting
    stem = output_stem(info.path)
    out = _output_folder(opts.out_dir, stem, chosen)
    with report.stage("extract audio") as progress:
        audio = media.extract_audio(info.path, info.duration_ms, progress)
    info = _decoded(info, audio, report)
    jobs, skipped = _check_durations(info, chosen, opts.trim)  # against what could really be decoded
    for line in skipped:
        report.say(line)
    result = RunResult(document=out / f"{stem}.bilingo.json", skipped=skipped)
    doc = _document(info, audio, result, opts, report)

    error = _translate(doc, audio, opts, report)
    doc.save(result.document)
    result.captions = _write_captions(doc, out, stem)
    if error is not None:
        raise error  # transcript, source captions and document are saved: nothing is lost

    pending = []
    for preset, seconds in jobs:
        path = _inside(out, f"{stem}.{preset.id}.mp4")
        key = _render_key(doc, preset, seconds, opts)
        if doc.renders.get(preset.id, {}).get("key") == key and path.is_file():
            report.say(f"{path.name} is up to date")
        else:
            pending.append((preset, seconds, key))
        result.outputs.append(path)
        result.covers.append(path.with_suffix(".jpg"))
    if pending:
        result.render_log.update(_render(info, doc, pending, out, stem, opts, catalogue, backdrop, report))
        for preset, _seconds, key in pending:
            doc.renders[preset.id] = {"file": f"{stem}.{preset.id}.mp4", "key": key}
        doc.save(result.document)
    return result


def _presets(opts: RunOptions) -> tuple[presets.Catalogue, list[presets.Preset]]:
    """The chosen presets, each once, under the name asked for (`--to linkedin` writes NAME.linkedin.mp4),
    with the caption style checked. Only names the catalogue holds get here, so they are safe file names."""
    catalogue = presets.load_all(opts.presets_file)
    chosen: dict[str, presets.Preset] = {}
    for pid in opts.presets:
        preset = catalogue.get(pid)
        catalogue.style(preset, opts.style)
        chosen.setdefault(pid, msgspec.structs.replace(preset, id=pid))
    return catalogue, list(chosen.values())


def _check_durations(info: media.MediaInfo, chosen: list[presets.Preset],
                     trim: bool) -> tuple[list[tuple[presets.Preset, float]], list[str]]:
    """Each preset with the seconds it renders, and a line for each preset this recording does not
    fit (too short, or too long without --trim). None fitting is an error, before any work."""
    seconds = info.duration_ms / 1000
    jobs, skipped = [], []
    for p in chosen:
        if p.min_duration_s and seconds < p.min_duration_s:
            skipped.append(f"skipping {p.id}: {info.path.name} lasts {seconds:.1f} s but {p.id} takes "
                           f"{p.min_duration_s:g} s to {p.max_duration_s or float('inf'):g} s")
        elif p.max_duration_s and seconds > p.max_duration_s and not trim:
            skipped.append(f"skipping {p.id}: {info.path.name} lasts {seconds:.1f} s but {p.id} takes "
                           f"{p.min_duration_s:g} s to {p.max_duration_s:g} s (--trim cuts it to fit)")
        else:
            jobs.append((p, min(seconds, p.max_duration_s) if p.max_duration_s else seconds))
    if not jobs:
        raise BilingoError("; ".join(skipped) + ": nothing to render", ExitCode.BAD_INPUT)
    return jobs, skipped


def _inside(out: Path, name: str) -> Path:
    """An output path, refused unless it stays inside the output folder."""
    path = out / name
    if path.resolve().parent != out.resolve():
        raise BilingoError(f"output name {name!r} would leave {out}", ExitCode.BAD_INPUT)
    return path


def _output_folder(out: Path, stem: str, chosen: list[presets.Preset]) -> Path:
    """The output folder, made and checked before any work is done for it."""
    if out.exists() and not out.is_dir():
        raise BilingoError(f"{out} is a file; --out needs a folder", ExitCode.BAD_INPUT)
    try:
        out.mkdir(parents=True, exist_ok=True)
        name_max = os.pathconf(out, "PC_NAME_MAX")
    except OSError as exc:
        raise BilingoError(f"cannot use {out} as the output folder: {exc.strerror}", ExitCode.BAD_INPUT) from exc
    longest = max([f"{stem}.bilingo.json", *(f"{stem}.{p.id}.mp4" for p in chosen)], key=lambda n: len(os.fsencode(n)))
    if len(os.fsencode(longest)) > name_max:
        raise BilingoError(f"the output name {longest[:40]}… is longer than this file system allows ({name_max} "
                           "bytes); rename the recording", ExitCode.BAD_INPUT)
    sweep_leftovers(out)
    return out


def _decoded(info: media.MediaInfo, audio, report: Reporter) -> media.MediaInfo:
    """A truncated file is rendered as long as its audio, not as its header claims."""
    decoded_ms = len(audio) * 1000 // media.SAMPLE_RATE
    if decoded_ms < 0.9 * info.duration_ms:
        report.say(f"warning: only {decoded_ms / 1000:.1f} s of {info.duration_ms / 1000:.1f} s of audio could be "
                   "decoded; the file may be truncated")
        return replace(info, duration_ms=decoded_ms)
    return info


def _document(info: media.MediaInfo, audio, result: RunResult, opts: RunOptions, report: Reporter) -> ClipDocument:
    """The recording's clip document: the existing one (with its review edits), or a new one."""
    sha = media.audio_sha256(audio)
    doc = _existing_document(result.document, sha)
    if doc is not None:
        result.reused_document = True
        report.say(f"using {result.document.name} (with any review edits); delete it to transcribe again")
        return doc
    transcript, result.transcript_cached = _transcript(audio, sha, opts.transcribe, report)
    if not transcript.words:
        raise BilingoError(f"{info.path.name}: no speech found (silence, noise or music); nothing to caption",
                           ExitCode.NO_SPEECH)
    with report.stage("segment"):
        cues = segment.segment(transcript)
    source = Source(path=str(info.path), audio_sha256=sha, duration_ms=info.duration_ms,
                    has_video=info.has_video, width=info.width, height=info.height)
    doc = ClipDocument(source=source, transcript=transcript, cues=cues)
    doc.save(result.document)
    return doc


def _background(value: str | None) -> video.Backdrop:
    """--background: a colour in ffmpeg's syntax, else an image file, checked by its content."""
    if value is None:
        return video.Backdrop()
    try:
        return video.Backdrop(colour=colours.parse(value))
    except ValueError as exc:
        why = str(exc)
    path = Path(value).expanduser()
    if not path.is_file():
        raise BilingoError(f"--background {value}: neither a colour ({why}) nor an image file", ExitCode.BAD_INPUT)
    if not video.is_image(path):
        raise BilingoError(f"--background {value}: not an image ffmpeg can read", ExitCode.BAD_INPUT)
    return video.Backdrop(image=path.resolve())


def _existing_document(path: Path, audio_sha: str) -> ClipDocument | None:
    if not path.exists():
        return None
    doc = ClipDocument.load(path)
    if doc.source.audio_sha256 != audio_sha:
        raise BilingoError(
            f"{path} belongs to a different recording with the same name; "
            "choose another --out folder or move that file aside (it may hold review edits)",
            ExitCode.BAD_INPUT,
        )
    return doc


def _transcript(audio, sha: str, topts: TranscribeOptions, report: Reporter) -> tuple[Transcript, bool]:
    """Transcribe, or reuse the cached transcript of the same audio with the same settings."""
    key = hashlib.sha256(json.dumps([sha, asdict(topts), __version__], sort_keys=True).encode()).hexdigest()[:32]
    cached = cache_dir() / "transcripts" / f"{key}.json"
    if cached.is_file():
        try:
            transcript = Transcript.from_dict(json.loads(cached.read_text(encoding="utf-8")))
            report.say("transcript found in the cache: not transcribing again")
            return transcript, True
        except (OSError, ValueError, TypeError, KeyError):
            cached.unlink(missing_ok=True)  # a damaged cache entry is only a cache miss
    with report.stage(f"transcribe ({topts.model})") as progress:
        transcript = transcribe(audio, topts, progress)
    report.say(f"language: {transcript.language} (p={transcript.language_probability:.2f}), "
               f"{len(transcript.words)} words")
    atomic_write_text(cached, json.dumps(asdict(transcript), ensure_ascii=False))
    return transcript, False


def _translate(doc: ClipDocument, audio, opts: RunOptions, report: Reporter) -> TranslatorUnavailable | None:
    if doc.translated or opts.translator == "none":
        return None
    memory = TranslationMemory.open(cache_dir() / "memory.json", list(opts.memory_files))
    with report.stage("translate") as progress:
        doc.cues, error = translate_cues(doc.cues, doc.language, memory, _translators(doc, audio, opts),
                                         progress, notice=report.say)
    if error is None:
        doc.cues = segment.fit_pair(doc.cues, doc.language)  # a long translation splits its cue, or is flagged
    doc.translator = opts.translator
    missing = sum(1 for c in doc.cues if not c.text(doc.target_language).strip())
    if error is None and missing:
        error = TranslatorUnavailable(f"{missing} of {len(doc.cues)} cues got no translation; add them to the clip "
                                      "document or a --memory file and rerun, or rerun when online")
    return error


def _translators(doc: ClipDocument, audio, opts: RunOptions) -> list:
    """The chosen translator, then (for Chinese speech) Whisper's offline translate task."""
    chain: list = []
    if opts.translator != "whisper":
        chain.append(Translator(opts.translator, doc.language, doc.target_language))
    if doc.language == "zh" and resolve(opts.transcribe.model).multilingual:
        chain.append(WhisperTranslator(audio, opts.transcribe.model, opts.transcribe.threads))
    elif opts.translator == "whisper":
        raise BilingoError("--translator whisper turns Chinese speech into English; this recording is English",
                           ExitCode.BAD_INPUT)
    return chain


def _write_captions(doc: ClipDocument, out: Path, stem: str) -> list[Path]:
    """SRT and WebVTT per language with text; a language edited away loses its stale files."""
    written = []
    for lang in ("en", "zh"):
        srt_path, vtt_path = _inside(out, f"{stem}.{lang}.srt"), _inside(out, f"{stem}.{lang}.vtt")
        if any(c.text(lang).strip() for c in doc.cues):
            subtitles.write_srt(doc.cues, lang, srt_path)
            _write_vtt(doc.cues, lang, vtt_path)
            written += [srt_path, vtt_path]
        else:
            srt_path.unlink(missing_ok=True)
            vtt_path.unlink(missing_ok=True)
    return written


def _write_vtt(cues, lang: str, path: Path) -> None:
    """WebVTT from the SRT text (same cues, same lines); `&`, `<` and `-->` made inert.
    One place, to be replaced by subtitles.write_vtt when that lands."""
    import srt

    def stamp(t) -> str:
        ms = round(t.total_seconds() * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    blocks = ["WEBVTT\n"]
    for sub in srt.parse(subtitles.to_srt(cues, lang)):
        text = sub.content.replace("&", "&amp;").replace("<", "&lt;").replace("-->", "--&gt;")
        blocks.append(f"{stamp(sub.start)} --> {stamp(sub.end)}\n{text}\n")
    text = "\n".join(blocks)
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        atomic_write_text(path, text)


def _render_key(doc: ClipDocument, preset: presets.Preset, seconds: float, opts: RunOptions) -> str:
    settings = [opts.background, opts.fit, opts.karaoke, opts.style, opts.speed, opts.crf, seconds]
    blob = json.dumps([RENDER_VERSION, doc.source.audio_sha256, [asdict(c) for c in doc.cues],
                       msgspec.to_builtins(preset), settings], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _render(info: media.MediaInfo, doc: ClipDocument, jobs, out: Path, stem: str, opts: RunOptions,
            catalogue: presets.Catalogue, backdrop: video.Backdrop, report: Reporter) -> dict[str, str]:
    """Every pending preset in one ffmpeg process, each output verified, then moved into place with
    its cover; nothing is moved unless all of them pass."""
    karaoke = opts.karaoke and doc.language == "en"
    if opts.karaoke and not karaoke:
        report.say("note: --karaoke highlights spoken English word by word; this recording is Chinese")
    enc = video.Encoding(speed=opts.speed, crf=opts.crf)
    ids = ", ".join(p.id for p, _s, _k in jobs)
    with staging_dir(out) as work, report.stage(f"render {ids}") as progress:
        outputs = [_captions_file(doc, preset, seconds, catalogue.style(preset, opts.style), karaoke, work, report)
                   for preset, seconds, _key in jobs]
        measured = video.measure_loudness(info, outputs[0].preset.loudness, max(o.seconds for o in outputs))
        render = lambda outs, prog: video.render(info, outs, work, backdrop=backdrop, fit=opts.fit,  # noqa: E731
                                                 measured=measured, enc=enc, progress=prog)
        log = render(outputs, progress)
        if video.TOFU in log:
            report.say(f"warning: some characters have no glyph in the caption font ({ids})")
        outputs = [_verified(o, work, render, report) for o in outputs]
        first = doc.cues[0] if doc.cues else None
        video.covers(outputs, [min((first.start + first.end) / 2000 if first else 0.5, o.seconds / 2)
                               for o in outputs], work)
        for o in outputs:
            os.replace(work / f"{o.preset.id}.jpg", _inside(out, f"{stem}.{o.preset.id}.jpg"))
            os.replace(work / o.name, _inside(out, f"{stem}.{o.preset.id}.mp4"))
    return {o.preset.id: log for o in outputs}


def _captions_file(doc: ClipDocument, preset: presets.Preset, seconds: float, style: presets.Style,
                   karaoke: bool, work: Path, report: Reporter) -> video.Output:
    """The preset's ASS file in the scratch folder; cues that need too many lines are named."""
    lines = [ass.caption_lines(c, preset) for c in doc.cues]
    crowded = [str(i) for i, ls in enumerate(lines, 1) if ass.overflowing(preset, style, ls)]
    if crowded:
        report.say(f"warning: {preset.id}: cue {', '.join(crowded[:8])}{'…' if len(crowded) > 8 else ''} needs more "
                   f"than {preset.captions.max_lines} lines or leaves the safe area; shorten it in the clip document")
    words = [ass.cue_words(c, doc.transcript.words) for c in doc.cues] if karaoke else None
    subs = ass.build(doc.cues, preset, lines, style, words)
    name = f"{preset.id}.ass"
    (work / name).write_text(subs.to_string("ass"), encoding="utf-8")
    kbps = video.size_limited_kbps(preset, seconds)
    return video.Output(preset=preset, seconds=seconds, ass=name, video_kbps=kbps)


def _verified(o: video.Output, work: Path, render, report: Reporter, tries: int = 2) -> video.Output:
    """The output when it matches its preset; a size overrun is encoded again, alone, at a lower cap."""
    for attempt in range(tries + 1):
        found = verify.problems(work / o.name, o.preset, o.seconds)
        if not found:
            return o
        over = o.preset.max_bytes and (work / o.name).stat().st_size > o.preset.max_bytes
        if not over or attempt == tries:
            break
        o = replace(o, video_kbps=int(o.video_kbps * 0.8))
        report.say(f"{o.preset.id}: over its size limit; encoding again at {o.video_kbps} kb/s")
        render([o], lambda _f: None)
    raise BilingoError(f"{o.preset.id} did not come out as the preset requires: {'; '.join(found)}",
                       ExitCode.RENDER_FAILED)

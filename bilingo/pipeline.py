"""One recording through every stage: probe → audio → transcript → cues → translation → outputs.

The clip document beside the outputs is the source of truth: when it exists for the same audio,
a run reuses it (and any review edits in it) instead of transcribing again, and only renders
what is missing or out of date. Outputs are staged in a hidden folder and renamed into place,
so a failed run leaves the output folder as it found it.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import msgspec

from . import figures, media, rules, segment, subtitles
from .cache import stage_key
from .errors import BilingoError, ExitCode, TranslatorUnavailable
from .fsutil import atomic_write_text, check_writable, staging_dir, sweep_leftovers
from .model import ClipDocument, Source, Transcript, assign_ids, attach_words, other_language
from .progress import Reporter
from .review import srt as review_srt
from .formats import ass
from .render import colours, presets, verify, video
from .transcribe import TranscribeOptions, decode_settings, transcribe
from .transcribe.models import ModelRef, cache_dir, resolve
from .translate import remember_edits, rough_cues, translate_cues
from .translate.chat import ChatTranslator
from .translate.glossary import Glossary
from .translate.memory import TranslationMemory, shared_path as shared_memory_path
from .translate.providers import PlainTranslator
from .translate.whisper import WhisperTranslator



@dataclass
class RunOptions:
    out_dir: Path
    presets: tuple[str, ...] = ("linkedin",)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    translator: str = "google"
    memory_files: tuple[Path, ...] = ()
    translator_url: str | None = None  # libre / openai endpoint (keys come from the environment or config)
    glossary_files: tuple[Path, ...] = ()
    presets_file: Path | None = None
    background: str | None = None  # colour or image for audio-only recordings; None: the preset's
    redo: tuple[str, ...] = ()  # stages to do again although the clip document has them: transcribe, translate
    force: bool = False  # let --redo transcribe replace cues a person edited
    until: str = "render"  # "review": stop once the clip document and its captions are ready for review
    approved_only: bool = False  # render only a clip a person approved (the review gate)
    discard_srt_edits: bool = False  # overwrite sidecar SRTs a person edited instead of stopping
    fit: str | None = None  # blur, crop or letterbox; None: the preset's
    trim: bool = False  # cut a recording longer than a preset allows, instead of skipping that preset
    karaoke: bool = False  # English line highlighted word by word
    style: str | None = None  # caption style for every preset; None: each preset's
    speed: str | None = None  # x264 preset for every output; None: each preset's
    crf: int | None = None  # x264 CRF for every output; None: each preset's
    accept_rough: bool = False  # render Whisper's rough fallback translation without a review
    key_words: bool = False  # learner aid: key words coloured in their line, glossed in a line of their own
    pinyin: bool = False  # learner aid: a pinyin line above each Chinese line
    edition: str | None = None  # "shadowing": also NAME.PRESET.shadowing.mp4 (each sentence, then a pause to repeat it)
    repeat: int = 1  # shadowing: times each sentence is played before its pause
    repeat_tempo: float = 1.0  # shadowing: the repeats' speed (pitch kept), e.g. 0.8
    end_card: bool = False  # a closing card of the clip's key words and glosses
    profile: str | None = None  # caption profile (rules.PROFILES); None: learner when translating, else native


@dataclass
class RunResult:
    document: Path
    outputs: list[Path] = field(default_factory=list)
    captions: list[Path] = field(default_factory=list)
    transcript_cached: bool = False
    reused_document: bool = False
    render_log: dict[str, str] = field(default_factory=dict)
    stopped_for_review: bool = False
    covers: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # presets this recording cannot be rendered for
    editions: list[Path] = field(default_factory=list)  # NAME.PRESET.shadowing.mp4


def output_stem(clip: Path) -> str:
    return clip.stem or clip.name


def run(clip: Path, opts: RunOptions, report: Reporter) -> RunResult:
    """Run every stage; a run that fails leaves no new output folder behind (it may hold the
    document and source captions when only translation failed: they are the work done)."""
    created = not opts.out_dir.exists()
    try:
        return _run(clip, opts, report)
    except BaseException:
        if created and opts.out_dir.is_dir() and not any(opts.out_dir.iterdir()):
            opts.out_dir.rmdir()
        raise


def _run(clip: Path, opts: RunOptions, report: Reporter) -> RunResult:
    catalogue, chosen = _presets(opts)  # a typo fails before any work
    backdrop = _background(opts.background)
    _check_engine(opts.transcribe)
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
    if not opts.discard_srt_edits:
        review_srt.check_sidecars(doc, result.document)  # before any work that would overwrite them

    error = _translate(doc, audio, opts, report)
    if error is None and (opts.key_words or opts.end_card):
        _key_words(doc, audio, opts, report)
    doc.save(result.document)
    result.captions = review_srt.write_sidecars(doc, result.document, discard_edits=opts.discard_srt_edits)
    result.captions += _write_vtts(doc, out, stem)
    doc.save(result.document)  # with the sidecars' hashes
    if error is not None:
        raise error  # transcript, source captions and document are saved: nothing is lost
    if opts.until == "review":
        result.stopped_for_review = True
        report.say(f"ready for review: {result.document}")
        return result
    _stop_if_rough(doc, result.document, opts)
    if opts.approved_only and doc.review.state != "approved":
        raise BilingoError(f"{result.document.name} is not approved: review and approve it first "
                           "(`bilingo review`, `bilingo approve`), or add --force to render the draft",
                           ExitCode.NEEDS_REVIEW)

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
    editions = []
    for edition in _editions(doc, info, jobs, opts, report):
        path = _inside(out, f"{stem}.{edition.name}")
        if doc.renders.get(edition.name[:-4], {}).get("key") == edition.key and path.is_file():
            report.say(f"{path.name} is up to date")
        else:
            editions.append(edition)
        result.editions.append(path)
    if pending or editions:
        try:
            result.render_log.update(_render(info, doc, pending, out, stem, opts, catalogue, backdrop, report,
                                             editions))
        except BilingoError as err:  # the earlier outputs are kept, and said to be out of date
            stale = [f"{stem}.{p.id}.mp4" for p, _s, _k in pending if (out / f"{stem}.{p.id}.mp4").is_file()]
            if stale:
                err.args = (f"{err}; {', '.join(stale)} {'is' if len(stale) == 1 else 'are'} from an earlier run and "
                            "do not show the current captions (kept; the next successful run replaces them)",)
            raise
        for preset, _seconds, key in pending:
            doc.renders[preset.id] = {"file": f"{stem}.{preset.id}.mp4", "key": key}
        for edition in editions:
            doc.renders[edition.name[:-4]] = {"file": f"{stem}.{edition.name}", "key": edition.key}
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
    check_writable(out)  # a read-only, full or pseudo file system fails now, not after transcribing
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


def _check_engine(topts: TranscribeOptions) -> None:
    """The model and engine asked for exist (a missing folder or engine fails before any work)."""
    import importlib.util

    resolve(topts.model)
    if topts.engine == "openai-whisper" and not all(importlib.util.find_spec(m) for m in ("torch", "whisper")):
        from .transcribe.openai import NOT_INSTALLED

        raise BilingoError(NOT_INSTALLED, ExitCode.TOOL_MISSING)


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
    old = _existing_document(result.document, sha)
    if old is not None and "transcribe" not in opts.redo:
        result.reused_document = True
        edited = sum(1 for c in old.cues if c.edited)
        report.say(f"using {result.document.name}" + (f" and its review edits ({edited} cues)" if edited else ""))
        _say_overrides(old, opts, report)
        return _redo_translation(old, report) if "translate" in opts.redo else old
    if old is not None:
        edited = sum(1 for c in old.cues if c.edited)
        if edited and not opts.force:
            raise BilingoError(f"--redo transcribe replaces all {len(old.cues)} cues of {result.document.name}, "
                               f"{edited} of them edited by a person; add --force to replace them", ExitCode.BAD_INPUT)
        report.say(f"transcribing again: {len(old.cues)} cues ({edited} edited by a person) will be replaced")
    transcript, result.transcript_cached = _transcript(audio, sha, opts.transcribe, report)
    if not transcript.words:
        where = ""
        if info.audio_streams > 1:  # say which stream was heard, and how to give bilingo another
            where = (f" in the first of its {info.audio_streams} audio streams (the one bilingo listens to); to caption "
                     f"another, extract it first, e.g. `ffmpeg -i {info.path.name} -map 0:v? -map 0:a:1 -c copy "
                     f"second{info.path.suffix}` for the second")
        raise BilingoError(f"{info.path.name}: no speech found{where} (silence, noise or music); nothing to caption",
                           ExitCode.NO_SPEECH)
    with report.stage("segment"):
        cues = segment.segment(transcript, profile=rules.profile(caption_profile(opts), transcript.language))
        cues = figures.tidy(cues, transcript.language, (transcript.language,))  # Whisper's figures one way
        cues = attach_words(assign_ids(cues), transcript.words)
    source = Source(path=str(info.path), audio_sha256=sha, duration_ms=info.duration_ms,
                    has_video=info.has_video, width=info.width, height=info.height)
    doc = ClipDocument(source=source, transcript=transcript, cues=cues, settings=_settings(opts),
                       revision=old.revision if old else 0)
    doc.save(result.document)
    return doc


def _settings(opts: RunOptions) -> dict:
    """The options a clip document is made with: a later run that asks for others is told."""
    t = opts.transcribe
    return {"transcribe": {"model": t.model, "engine": t.engine, "language": t.language, "beam_size": t.beam_size,
                           "batch_size": t.batch_size, "languages": ",".join(t.languages)},
            "translator": opts.translator, "profile": caption_profile(opts)}


def caption_profile(opts: RunOptions) -> str:
    """The caption profile a run uses: --profile, else learner for bilingual output, native for one language."""
    return opts.profile or ("native" if opts.translator == "none" else "learner")



_FLAGS = {"model": "--model", "engine": "--engine", "language": "--language", "beam_size": "--beam-size",
          "batch_size": "--batch-size", "languages": "--languages"}


def _say_overrides(doc: ClipDocument, opts: RunOptions, report: Reporter) -> None:
    """Name every option of this run that the existing document's work overrides, and how to redo it."""
    made = doc.settings.get("transcribe") or {"model": doc.transcript.model, "engine": doc.transcript.engine}
    wanted = _settings(opts)
    differ = [k for k, v in wanted["transcribe"].items() if k in made and made[k] != v]
    if differ:
        was = " ".join(f"{_FLAGS[k]} {made[k]}" for k in differ if made[k] is not None)
        now = " ".join(f"{_FLAGS[k]} {wanted['transcribe'][k]}" for k in differ)
        report.say(f"note: the transcript was made with {was or 'the defaults'}; it is kept, not redone with {now} "
                   "(add --redo transcribe to transcribe again)")
    made_for = doc.settings.get("profile", "native")
    if opts.profile and opts.profile != made_for:
        report.say(f"note: the cues were cut for the {made_for} caption profile; they are kept, not cut again for "
                   f"--profile {opts.profile} (add --redo transcribe to cut them again)")
    translator = doc.translator or doc.settings.get("translator", "")
    if doc.translated and translator and translator != opts.translator:
        report.say(f"note: the translations are {translator}'s and are kept, not redone with --translator "
                   f"{opts.translator} (add --redo translate to translate again; edited cues are kept)")


def _redo_translation(doc: ClipDocument, report: Reporter) -> ClipDocument:
    """Clear every machine translation so the translate stage runs again; a person's text stays."""
    from .translate import MACHINE

    kept = sum(1 for c in doc.cues if doc.target_of(c) in c.edited)
    doc.cues = [c if doc.target_of(c) in c.edited else
                replace(c.with_text(doc.target_of(c), ""), flags=tuple(f for f in c.flags if f != MACHINE))
                for c in doc.cues]
    doc.translator = ""
    report.say(f"translating again; {kept} cues edited by a person are kept")
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


def _transcript_key(sha: str, topts: TranscribeOptions, ref: ModelRef) -> str:
    """Everything that changes a transcript: the audio, the engine and the settings passed to it,
    the model's files, and the transcription code itself (bilingo.cache hashes its source)."""
    return stage_key("transcribe", sha, topts.engine, decode_settings(topts, ref.multilingual), topts.batch_size,
                     list(topts.languages), ref.identity or ref.name, code=("bilingo.transcribe",))


def _transcript(audio, sha: str, topts: TranscribeOptions, report: Reporter) -> tuple[Transcript, bool]:
    """Transcribe, or reuse the cached transcript of the same audio with the same settings and code.
    Any unreadable cache entry is a miss, removed, never fatal."""
    cached = cache_dir() / "transcripts" / f"{_transcript_key(sha, topts, resolve(topts.model))}.json"
    try:
        if cached.is_dir() and not cached.is_symlink():
            shutil.rmtree(cached)
        elif cached.exists():
            transcript = Transcript.from_json(cached.read_bytes())
            report.say("transcript found in the cache: not transcribing again")
            return transcript, True
    except (OSError, ValueError):
        _discard(cached)
    with report.stage(f"transcribe ({topts.model})") as progress:
        transcript = transcribe(audio, topts, progress)
    mixed = ", ".join(f"{lang} {len(run)} words" for lang, run in transcript.runs()) if transcript.spans else ""
    report.say(f"language: {transcript.language} (p={transcript.language_probability:.2f}), "
               f"{len(transcript.words)} words" + (f"; stretches: {mixed}" if mixed else ""))
    try:
        atomic_write_text(cached, json.dumps(asdict(transcript), ensure_ascii=False))
    except (OSError, BilingoError) as exc:  # a cache that cannot be written costs time, not the run
        report.say(f"warning: cannot cache the transcript in {cached.parent} ({exc})")
    return transcript, False


def _discard(path: Path) -> None:
    try:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)
    except OSError:
        pass


def _translate(doc: ClipDocument, audio, opts: RunOptions, report: Reporter) -> TranslatorUnavailable | None:
    """Fill the target language of the cues that lack it (never a cue a person edited), by sentence,
    from the memory first; the error says how many cues remain and how to finish them. A recording that
    mixes languages is translated run by run, each run in its own direction (English → Chinese,
    Mandarin → English), into the one document."""
    if opts.translator == "none":
        return None
    memory = TranslationMemory(shared_memory_path(), list(opts.memory_files))
    memory.use_machine = "translate" not in opts.redo  # --redo translate asks for a new translation
    chains: dict[str, list] = {}
    error: TranslatorUnavailable | None = None
    try:
        runs = _runs(doc)
        if doc.translated:
            for lang, first, last in runs:
                remember_edits(doc.cues[first:last], lang, memory)
            return None
        with report.stage("translate") as progress:
            for lang, first, last in runs:
                # a chain per run: a translator is stopped once its run is done (batches never outlive it)
                chains[lang] = _translators(doc, audio, opts, lang)
                share = (last - first) / len(doc.cues)
                done = first / len(doc.cues)
                part, err = translate_cues(doc.cues[first:last], lang, memory, chains[lang], notice=report.say,
                                           progress=lambda f, d=done, s=share: progress(d + s * f))
                doc.cues[first:last] = part  # each translator checks its own glossary
                error = error or err
    finally:
        memory.close()
    if error is None:
        doc.cues = segment.fit_pair(doc.cues, doc.language, profile=rules.of_document(doc))  # split, or flagged
        doc.cues = figures.tidy(doc.cues, doc.language, (doc.target_language,))  # figures one way, and kept
        doc.cues = attach_words(assign_ids(doc.cues), doc.transcript.words)
    doc.translator = opts.translator
    missing = sum(1 for c in doc.cues if not c.text(doc.target_of(c)).strip())
    if not missing:
        return None
    clip = Path(doc.source.path).name
    resume = f"`bilingo translate {clip}" + (f" --out {opts.out_dir}`" if opts.out_dir else "`")
    if error is None and chains and all(chain and chain[-1].name == "whisper" for chain in chains.values()):
        return TranslatorUnavailable(f"Whisper gave no English for {missing} of {len(doc.cues)} cues; write them in "
                                     "the clip document (or a --memory file) and rerun; the clip stays reviewable")
    why = str(error) if error is not None else "the translator gave nothing for them"
    return TranslatorUnavailable(f"{why}: {missing} of {len(doc.cues)} cues still need a translation; {resume} "
                                 "translates only those (rerun when online or with another --translator); "
                                 "offline, give your own translations with --memory FILE (JSON or TSV), or "
                                 "caption in the spoken language only with --translator none; "
                                 "the clip stays reviewable")


def _runs(doc: ClipDocument) -> list[tuple[str, int, int]]:
    """Consecutive cues spoken in one language: (language, first, last) with cues[first:last]."""
    out: list[tuple[str, int, int]] = []
    for k, cue in enumerate(doc.cues):
        lang = doc.source_of(cue)
        if out and out[-1][0] == lang:
            out[-1] = (lang, out[-1][1], k + 1)
        else:
            out.append((lang, k, k + 1))
    return out


def _stop_if_rough(doc: ClipDocument, document: Path, opts: RunOptions) -> None:
    """Whisper's rough translation stood in for an unreachable translator: a person sees it before it is
    burned into a video (as when translation fails), unless they asked for it, chose Whisper, or approved."""
    rough = rough_cues(doc.cues, doc.target_language)
    if not rough or opts.accept_rough or opts.translator == "whisper" or doc.review.state == "approved":
        return
    raise TranslatorUnavailable(
        f"not rendered: the English of {rough} of {len(doc.cues)} cues is Whisper's rough "
        f"translation of the speech (the {opts.translator} translator could not be reached); review it "
        f"(`bilingo review {document}`), rerun online with --redo translate, or add --accept-rough to render it "
        "as it is")


def _key_words(doc: ClipDocument, audio, opts: RunOptions, report: Reporter) -> None:
    """Choose the clip's key words (a person's choices kept) and gloss those without a gloss: from the
    memory, the text translator when there is one, else the dictionary."""
    from .learn import gloss, keywords

    with report.stage("key words"):
        doc.cues = keywords.choose(doc)
        memory = TranslationMemory(shared_memory_path(), list(opts.memory_files))
        try:
            texts = [t for t in (_translators(doc, None, opts, doc.language) if opts.translator not in ("none", "whisper") else [])
                     if hasattr(t, "translate")]
            doc.cues = gloss.gloss(doc.cues, doc.language, memory, texts[0] if texts else None, notice=report.say)
        finally:
            memory.close()


def _translators(doc: ClipDocument, audio, opts: RunOptions, source: str) -> list:
    """The chosen translator from `source`, then (for Chinese speech) Whisper's offline translate task."""
    chain: list = []
    glossary = Glossary.load(opts.glossary_files)
    target = other_language(source)
    if opts.translator == "openai":
        chain.append(ChatTranslator(source, target, opts.translator_url, glossary=glossary))
    elif opts.translator != "whisper":
        chain.append(PlainTranslator(opts.translator, source, target, opts.translator_url, glossary=glossary))
    if source == "zh" and audio is not None and resolve(opts.transcribe.model).multilingual:
        chain.append(WhisperTranslator(audio, opts.transcribe.model, opts.transcribe.threads))
    elif opts.translator == "whisper" and not any(doc.source_of(c) == "zh" for c in doc.cues):
        raise BilingoError("--translator whisper turns Chinese speech into English; this recording is English",
                           ExitCode.BAD_INPUT)
    return chain


def _write_vtts(doc: ClipDocument, out: Path, stem: str) -> list[Path]:
    """WebVTT per language with text, in the display form (as shown); a language edited away loses its
    stale file. The SRT sidecars hold the cues' own text for round trips (review.srt)."""
    written = []
    for lang in ("en", "zh"):
        path = _inside(out, f"{stem}.{lang}.vtt")
        if any(c.text(lang).strip() for c in doc.cues):
            subtitles.write_vtt(doc.cues, lang, path)
            written.append(path)
        else:
            path.unlink(missing_ok=True)
    return written


def render_keys(doc: ClipDocument, opts: RunOptions) -> dict[str, str]:
    """The render key each preset of `opts` would get from this document (presets the recording does
    not fit are left out, as a run would skip them): what a batch or a test compares with `doc.renders`."""
    _, chosen = _presets(opts)
    info = media.MediaInfo(path=Path(doc.source.path), duration_ms=doc.source.duration_ms, has_audio=True,
                           has_video=doc.source.has_video)
    try:
        jobs, _ = _check_durations(info, chosen, opts.trim)
    except BilingoError:  # no preset fits this recording: nothing would be rendered
        return {}
    return {p.id: _render_key(doc, p, seconds, opts) for p, seconds in jobs}


def _render_key(doc: ClipDocument, preset: presets.Preset, seconds: float, opts: RunOptions) -> str:
    """Everything that changes an output: the audio, what is burned (times and both texts; word timings
    for karaoke), the preset, the render options, and the rendering and layout code itself."""
    burned = [(c.start, c.end, c.en, c.zh) for c in doc.cues]
    words = [(w.text, w.start, w.end) for w in doc.transcript.words] if opts.karaoke else []
    keys = [[(k.word, k.gloss) for k in c.keywords if not k.removed] for c in doc.cues] if opts.key_words else []
    keys = keys or ([[(k.word, k.gloss) for k in c.keywords if not k.removed] for c in doc.cues] if opts.end_card else [])
    settings = [opts.background, opts.fit, opts.karaoke, opts.style, opts.speed, opts.crf, seconds, opts.key_words,
                opts.pinyin, keys, opts.end_card]
    return stage_key("render", doc.source.audio_sha256, burned, words, msgspec.to_builtins(preset), settings,
                     code=("bilingo.render", "bilingo.layout"))


@dataclass(frozen=True)
class _Edition:
    """A shadowing edition of one preset: its planned segments, frame rate, length and render key."""
    preset: presets.Preset
    segments: tuple
    fps: float
    seconds: float
    key: str

    @property
    def name(self) -> str:
        return f"{self.preset.id}.shadowing.mp4"


def _editions(doc: ClipDocument, info: media.MediaInfo, jobs, opts: RunOptions, report: Reporter) -> list[_Edition]:
    """The shadowing edition of each preset rendered, when asked for; one that would overrun its preset's
    length is skipped and said (or, with --trim, holds the whole sentences that fit)."""
    if opts.edition != "shadowing":
        return []
    from .learn import shadowing

    out = []
    for preset, seconds in jobs:
        fps = video.edition_fps(info, preset)
        limit = preset.max_duration_s if opts.trim else 0.0
        cues = [c for c in doc.cues if c.end <= seconds * 1000]  # a trimmed output's cues
        segments = shadowing.plan(cues, doc.language, fps, opts.repeat, opts.repeat_tempo, limit)
        total = shadowing.seconds(segments, fps)
        if not segments:
            report.say(f"skipping the {preset.id} shadowing edition: no whole sentence fits")
            continue
        if preset.max_duration_s and total > preset.max_duration_s:
            report.say(f"skipping the {preset.id} shadowing edition: it would last {total:.1f} s but {preset.id} "
                       f"takes at most {preset.max_duration_s:g} s (--trim keeps the sentences that fit)")
            continue
        if total < preset.min_duration_s:
            report.say(f"skipping the {preset.id} shadowing edition: {total:.1f} s is shorter than {preset.id} takes")
            continue
        key = stage_key("shadowing", _render_key(doc, preset, seconds, opts), [msgspec.to_builtins(s) for s in segments],
                        code=("bilingo.learn.shadowing",))
        out.append(_Edition(preset, tuple(segments), fps, total, key))
    return out


def _edition_file(doc: ClipDocument, edition: _Edition, style: presets.Style, aids: ass.Aids, work: Path) -> video.Output:
    """The edition's ASS file (its cues re-timed onto the edition) and its output."""
    from .learn import shadowing

    cues = shadowing.retimed(doc.cues, list(edition.segments), edition.fps)
    lines = [ass.caption_lines(c, edition.preset, aids) for c in cues]
    name = f"{edition.preset.id}.shadowing.ass"
    (work / name).write_text(ass.build(cues, edition.preset, lines, style).to_string("ass"), encoding="utf-8")
    return video.Output(preset=edition.preset, seconds=edition.seconds, ass=name,
                        video_kbps=video.size_limited_kbps(edition.preset, edition.seconds),
                        segments=edition.segments, fps=edition.fps, suffix="shadowing")


def _render(info: media.MediaInfo, doc: ClipDocument, jobs, out: Path, stem: str, opts: RunOptions,
            catalogue: presets.Catalogue, backdrop: video.Backdrop, report: Reporter,
            editions: list[_Edition] = ()) -> dict[str, str]:
    """Every pending preset in one ffmpeg process, each output verified, then moved into place with
    its cover; nothing is moved unless all of them pass."""
    karaoke = opts.karaoke and doc.language == "en"
    if opts.karaoke and not karaoke:
        report.say("note: --karaoke highlights spoken English word by word; this recording is Chinese")
    enc = video.Encoding(speed=opts.speed, crf=opts.crf)
    ids = ", ".join([*(p.id for p, _s, _k in jobs), *(e.name[:-4] for e in editions)])
    with staging_dir(out) as work, report.stage(f"render {ids}") as progress:
        aids = ass.Aids(key_words=opts.key_words, pinyin=opts.pinyin)
        outputs = [_captions_file(doc, preset, seconds, catalogue.style(preset, opts.style), karaoke, work, report,
                                  aids, _card_seconds(doc, preset, seconds, opts, report), video.edition_fps(info, preset))
                   for preset, seconds, _key in jobs]
        outputs += [_edition_file(doc, e, catalogue.style(e.preset, opts.style), aids, work) for e in editions]
        measured = video.measure_loudness(info, outputs[0].preset.loudness, max(o.seconds for o in outputs))
        render = lambda outs, prog: video.render(info, outs, work, backdrop=backdrop, fit=opts.fit,  # noqa: E731
                                                 measured=measured, enc=enc, progress=prog)
        log = render(outputs, progress)
        if video.TOFU in log:
            report.say(f"warning: some characters have no glyph in the caption font ({ids})")
        outputs = [_verified(o, work, render, report) for o in outputs]
        first = doc.cues[0] if doc.cues else None
        whole = [o for o in outputs if not o.suffix]
        if whole:
            video.covers(whole, [min((first.start + first.end) / 2000 if first else 0.5, o.seconds / 2)
                                 for o in whole], work)
        for o in outputs:
            if not o.suffix:
                os.replace(work / f"{o.preset.id}.jpg", _inside(out, f"{stem}.{o.preset.id}.jpg"))
            os.replace(work / o.name, _inside(out, f"{stem}.{o.name}"))
    return {o.name[:-4]: log for o in outputs}


def _card_seconds(doc: ClipDocument, preset: presets.Preset, seconds: float, opts: RunOptions,
                  report: Reporter) -> float:
    """How long the end card lasts (0: none): long enough to read its words, within the preset's length."""
    from .learn import card

    if not opts.end_card:
        return 0.0
    words = card.words(doc.cues)
    if not words:
        report.say(f"note: {preset.id}: no key word has a gloss, so there is no end card")
        return 0.0
    length = card.seconds(len(words))
    if preset.max_duration_s and seconds + length > preset.max_duration_s:
        report.say(f"note: {preset.id}: no end card, the clip already fills the {preset.max_duration_s:g} s it allows")
        return 0.0
    return length


def _captions_file(doc: ClipDocument, preset: presets.Preset, seconds: float, style: presets.Style,
                   karaoke: bool, work: Path, report: Reporter, aids: ass.Aids = ass.Aids(),
                   card_s: float = 0.0, fps: float = 0.0) -> video.Output:
    """The preset's ASS file in the scratch folder; cues that need too many lines are named."""
    lines = [ass.caption_lines(c, preset, aids) for c in doc.cues]
    crowded = [str(i) for i, ls in enumerate(lines, 1) if ass.overflowing(preset, style, ls)]
    if crowded:
        report.say(f"warning: {preset.id}: cue {', '.join(crowded[:8])}{'…' if len(crowded) > 8 else ''} needs more "
                   f"than {preset.captions.max_lines} lines or leaves the safe area; shorten it in the clip document")
    words = [ass.cue_words(c, doc.transcript.words) for c in doc.cues] if karaoke else None
    subs = ass.build(doc.cues, preset, lines, style, words)
    if card_s:
        from .learn import card

        card.add(subs, card.words(doc.cues), preset, style, round(seconds * 1000), round((seconds + card_s) * 1000))
    name = f"{preset.id}.ass"
    (work / name).write_text(subs.to_string("ass"), encoding="utf-8")
    kbps = video.size_limited_kbps(preset, seconds + card_s)
    return video.Output(preset=preset, seconds=seconds, ass=name, video_kbps=kbps, card_s=card_s, fps=fps)


def _verified(o: video.Output, work: Path, render, report: Reporter, tries: int = 2) -> video.Output:
    """The output when it matches its preset; a size overrun is encoded again, alone, at a lower cap."""
    for attempt in range(tries + 1):
        found = verify.problems(work / o.name, o.preset, o.total_s)
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

"""Speech for the assistant: decode audio, recognise it (Vosk), speak replies (pyttsx3/espeak-ng).

Small modules, each behind a typed interface: :mod:`voice.audio` (ffmpeg decoding, WAV and
Opus helpers), :mod:`voice.asr` (streaming recognition with typed events),
:mod:`voice.grammar` (Vosk grammars from words the model knows), :mod:`voice.asr_text` (ASR output
to clean text), :mod:`voice.speech_text` (replies rewritten for the ear), :mod:`voice.tts`
(speech synthesis). Nothing is loaded at import time: models and engines are opened by the caller.
"""

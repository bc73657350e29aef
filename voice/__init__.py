"""Speech for the assistant: decode audio, recognise it (Vosk), speak replies (pyttsx3/espeak-ng).

Small modules, each behind a typed interface: :mod:`voice.audio` (ffmpeg decoding, WAV and
Opus helpers), :mod:`voice.asr` (streaming recognition with typed events),
:mod:`voice.grammar` (Vosk grammars from words the model knows), :mod:`voice.asr_text` (ASR output
to clean text), :mod:`voice.speech_text` (replies rewritten for the ear), :mod:`voice.tts`
(speech synthesis). The kiosk (``python -m voice``) builds on them: :mod:`voice.pipeline` (typed
events and stages: endpointing, streaming recognition, Rasa, speech out), :mod:`voice.keypad`
(phone-style keys, callback numbers), :mod:`voice.kiosk` (the session and screen),
:mod:`voice.devices` (microphone/speaker via optional sounddevice) and :mod:`voice.cli`.
Nothing is loaded at import time: models and engines are opened by the caller.
"""

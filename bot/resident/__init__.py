"""What every resident channel shares: the one client of Rasa's HTTP API (:mod:`.rasa`) and the
channel-neutral resident service (:mod:`.service`) that the web chat, Telegram and the kiosk
adapt."""

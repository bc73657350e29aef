"""The phone line: residents call the assistant over SIP (G.711, RFC 4733 keys), and the
assistant calls enrolled residents each month (月探访). PJSIP (:mod:`bot.phone.sip`) under a
call session (:mod:`bot.phone.call`) and the outreach runner (:mod:`bot.phone.outreach`), both
over the one resident service."""

"""A small SMTP sink on eventlet green sockets: accepts any mail, records it, fails on request.

Written here rather than with the deprecated stdlib `smtpd` (asyncore would need its own
loop beside eventlet's) or an extra dependency: the sink needs only EHLO, MAIL, RCPT, DATA,
RSET, NOOP and QUIT. The channel key of a mail is its first recipient, so
`/_sandbox/config {"channel": "doi@example.vn", "error": {"status": 451}}` makes mail to that
address fail at the end of DATA with 451.
"""
import email
import email.policy

import eventlet

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
SMTP_FAILURE = {"status": 451, "message": "4.3.0 Sandbox: try again later"}
SMTP_RATE_LIMITED = {"status": 421, "message": "4.7.0 Sandbox: too many messages, slow down"}


def summarize(data):
    """What the records keep of a message: headers and both parts, decoded."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return {
        "subject": message.get("Subject"),
        "from": message.get("From"),
        "to": message.get("To"),
        "message_id": message.get("Message-ID"),
        "content_type": message.get_content_type(),
        "parts": [part.get_content_type() for part in message.walk() if not part.is_multipart()],
        "text": text_part.get_content() if text_part is not None else None,
        "html": html_part.get_content() if html_part is not None else None,
        "bytes": len(data),
    }


def deliver(state, mail_from, recipients, data):
    """(code, text) of the answer to a completed DATA, after recording the message."""
    channel = recipients[0] if recipients else "?"
    delay = state.latency(channel)
    if delay:
        eventlet.sleep(delay)
    verdict = state.decide(channel, None, token_required=False)
    if verdict is None:
        code, text, outcome = 250, "2.0.0 OK: queued by sandbox", "ok"
    else:
        spec = SMTP_RATE_LIMITED if verdict == "rate_limited" else verdict if isinstance(verdict, dict) else {}
        code = spec.get("status") if 400 <= (spec.get("status") or 0) <= 599 else SMTP_FAILURE["status"]
        text = spec.get("message") or SMTP_FAILURE["message"]
        outcome = verdict if isinstance(verdict, str) else "error"
    try:
        body = summarize(data)
    except Exception as exc:  # a malformed message is still recorded
        body = {"unparsable": f"{type(exc).__name__}: {exc}", "bytes": len(data)}
    state.record(platform="email", method="SMTP", path="DATA", query={}, channel=channel,
                 headers={"mail_from": mail_from, "rcpt_to": recipients}, body=body,
                 status=code, outcome=outcome)
    return code, text


def handle_session(conn, state):
    stream = conn.makefile("rwb")

    def reply(line):
        stream.write(line.encode("utf-8") + b"\r\n")
        stream.flush()

    mail_from, recipients = None, []
    try:
        reply("220 sandbox.binhyen ESMTP ready")
        while True:
            line = stream.readline(4096)
            if not line:
                return
            command, _, argument = line.decode("utf-8", "replace").strip().partition(" ")
            verb = command.upper()
            if verb == "EHLO":
                reply("250-sandbox.binhyen")
                reply("250-8BITMIME")
                reply("250-SMTPUTF8")
                reply(f"250 SIZE {MAX_MESSAGE_BYTES}")
            elif verb == "HELO":
                reply("250 sandbox.binhyen")
            elif verb == "MAIL":
                mail_from, recipients = argument.partition(":")[2].strip().split(" ")[0].strip("<>"), []
                reply("250 2.1.0 OK")
            elif verb == "RCPT":
                recipients.append(argument.partition(":")[2].strip().split(" ")[0].strip("<>"))
                reply("250 2.1.5 OK")
            elif verb == "DATA":
                if not recipients:
                    reply("503 5.5.1 RCPT first")
                    continue
                reply("354 End data with <CR><LF>.<CR><LF>")
                lines, size = [], 0
                while True:
                    chunk = stream.readline(MAX_MESSAGE_BYTES)
                    if not chunk or chunk in (b".\r\n", b".\n"):
                        break
                    size += len(chunk)
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)  # undo dot-stuffing
                if size > MAX_MESSAGE_BYTES:
                    reply("552 5.3.4 Message too big")
                else:
                    code, text = deliver(state, mail_from, recipients, b"".join(lines))
                    reply(f"{code} {text}")
                mail_from, recipients = None, []
            elif verb == "RSET":
                mail_from, recipients = None, []
                reply("250 2.0.0 OK")
            elif verb == "NOOP":
                reply("250 2.0.0 OK")
            elif verb == "QUIT":
                reply("221 2.0.0 Bye")
                return
            else:
                reply("502 5.5.2 Command not implemented")
    except OSError:
        return
    finally:
        try:
            stream.close()
            conn.close()
        except OSError:
            pass


def serve_smtp(sock, state, pool_size=1000):
    pool = eventlet.GreenPool(pool_size)
    while True:
        conn, _ = sock.accept()
        pool.spawn_n(handle_session, conn, state)

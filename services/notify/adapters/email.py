"""E-mail over SMTP (`SMTP_URL` = smtp://[user:password@]host:port, or smtps:// for TLS).

UTF-8, multipart/alternative with a text and an HTML part. Sent mail cannot be recalled.
"""
import html
import smtplib
import socket
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from services.notify.adapters.base import ChannelAdapter, DeliveryError, NoRetractApi, SendResult, http_timeout, settings
from services.notify.domain import ErrorClass, classify_failure


def smtp_settings():
    parts = urlsplit(settings().SMTP_URL)
    return {"tls": parts.scheme == "smtps", "host": parts.hostname or "127.0.0.1",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None}


def as_html(text):
    """An HTML part from plain text when the message brings none."""
    return "<html><body><p>" + html.escape(text).replace("\n", "<br>\n") + "</p></body></html>"


def build_message(to_address, message, sender):
    text = message.get("text") or ""
    mail = EmailMessage()
    mail["Subject"] = message.get("subject") or message.get("title") or text.split("\n", 1)[0][:120]
    mail["From"] = sender
    mail["To"] = to_address
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    body = text if not message.get("link") else f"{text}\n\n{message['link']}"
    mail.set_content(body, charset="utf-8")
    mail.add_alternative(message.get("html") or as_html(body), subtype="html", charset="utf-8")
    return mail


class Email(ChannelAdapter):
    channel_type = "email"

    def send(self, channel, message):
        smtp = smtp_settings()
        mail = build_message(channel["external_id"], message, settings().EMAIL_FROM)
        client_class = smtplib.SMTP_SSL if smtp["tls"] else smtplib.SMTP
        try:
            with client_class(smtp["host"], smtp["port"], timeout=http_timeout()) as client:
                if smtp["user"]:
                    client.login(smtp["user"], smtp["password"] or "")
                client.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise self.classify_error(exc) from None
        return SendResult(external_id=mail["Message-ID"], raw={"to": channel["external_id"]})

    def retract(self, channel, external_id):
        raise NoRetractApi(self.channel_type)

    def classify_error(self, exc):
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            return self._reply_error(code, text)
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._reply_error(exc.smtp_code, exc.smtp_error)
        if isinstance(exc, smtplib.SMTPServerDisconnected | socket.timeout | OSError):
            kind = "timeout" if isinstance(exc, socket.timeout) else "connection"
            return DeliveryError(classify_failure(source="transport", code=kind),
                                 f"Không kết nối được máy chủ thư ({kind}) / mail server unreachable: {exc}",
                                 platform_code=kind)
        return DeliveryError(ErrorClass.PERMANENT, str(exc))

    @staticmethod
    def _reply_error(code, text):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return DeliveryError(classify_failure(source="smtp", code=code), f"SMTP {code}: {text}",
                             platform_code=code)


adapter = Email()

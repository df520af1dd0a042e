"""gunicorn's logger (gunicorn.conf.py's ``logger_class``): its error log in our format, and
an access log that carries the request id and never a phone number."""

from __future__ import annotations

from gunicorn.glogging import Logger as _Logger

from .logs import REQUEST_ID_HEADER, RequestIdFilter, configure, formatter, log_format, redact_query


class Logger(_Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter())
                handler.addFilter(RequestIdFilter())
        configure()  # the app's own loggers, through the root logger

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        rid = next((v for k, v in resp.headers if k.lower() == REQUEST_ID_HEADER.lower()), None)
        query = redact_query(environ.get("QUERY_STRING", ""))
        fields = {
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO", "") + ("?" + query if query else ""),
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": rid,
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            if log_format() == "json":
                self.access_log.info("access", extra=fields)
            else:
                self.access_log.info(
                    '%s "%s %s" %s %s %sms',
                    fields["remote"],
                    fields["method"],
                    fields["path"],
                    fields["status"],
                    fields["bytes"],
                    fields["duration_ms"],
                    extra={"request_id": rid},
                )
        except Exception:
            self.error("access log line not written")

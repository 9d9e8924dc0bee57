"""Middleware that behaves like the SEO-spam implants found on hacked government sites: the
real page for people, a block of gambling links appended for search engines only.  Added to
MIDDLEWARE by the tests, never by the project."""

SPAM = ('<div><a href="http://www.bet365-cn.example/">澳门葡京赌场 在线博彩 百家乐</a>'
        '<a href="http://www.av-example.net/">成人视频</a></div>')


def _append(response):
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        response.content = response.content.replace(b"</body>", SPAM.encode() + b"</body>")
    return response


class SpamForSpiders:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        agent = request.headers.get("User-Agent", "").lower()
        if "spider" in agent or "googlebot" in agent:
            return _append(response)
        return response


class SpamForSearchVisitors:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "baidu.com/s" in request.headers.get("Referer", ""):
            return _append(response)
        return response

"""OpenAPI: our authentication classes (drf-spectacular extensions) and the error responses
every operation documents."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "zhouxin.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Token <key>: 接入系统令牌，权限与其代表的用户相同"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "zhouxin.api.authentication.VerifiedSessionAuthentication"
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="机器可读的错误代码，如 invalid、not_found、conflict、throttled")
    field = serializers.CharField(allow_null=True, help_text="出错的字段；与具体字段无关时为 null")
    message = serializers.CharField(help_text="给用户看的说明（中文）")


class ErrorResponseSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                               "description": "多少秒后可以再试"}}
ERRORS = {
    "400": "请求格式不对（字段缺失、类型或取值无效）",
    "401": "没有提供令牌或会话，或令牌无效、已吊销",
    "403": "没有权限执行此操作",
    "404": "对象不存在，或不在调用者的管辖范围内",
    "409": "工单当前状态不允许此操作",
    "422": "内容未通过业务校验（如理由太短、幂等键已用于不同的请求内容）",
    "429": ("调用过于频繁：按令牌（或账号）和按来源地址分别限流，写操作比查询更严；"
            "响应头 Retry-After 给出多少秒后可以再试"),
}


def error_codes(method: str, path: str) -> tuple[str, ...]:
    """The errors an operation can answer with (see exceptions.py for what each means)."""
    detail = "{" in path
    if method == "GET":
        return ("401", "403", "404", "429") if detail else ("400", "401", "403", "429")
    if detail:  # a dispatch action on one request
        return ("400", "401", "403", "404", "409", "422", "429")
    return ("400", "401", "403", "422", "429")


class ErrorDocumentingAutoSchema(AutoSchema):
    """Every operation also documents its error responses, all with the same body
    ({"errors": [{"code", "field", "message"}]}), and 429 its Retry-After header."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in error_codes(self.method, self.path):
            if code not in responses:
                body = self._get_response_for_code(
                    OpenApiResponse(ErrorResponseSerializer, description=ERRORS[code]), code, direction=direction)
                if code == "429":
                    body["headers"] = RETRY_AFTER
                responses[code] = body
        return responses

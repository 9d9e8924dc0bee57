from .navigation import navigation_for


def shell(request):
    user = getattr(request, "user", None)
    return {"nav_items": navigation_for(user) if user is not None and user.is_authenticated else []}

from .navigation import navigation_for, role_labels


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "shell_roles": []}
    match = getattr(request, "resolver_match", None)
    return {
        "nav_items": navigation_for(user, current=match.view_name if match else None),
        "shell_roles": role_labels(user),
    }

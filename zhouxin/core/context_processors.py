from .navigation import navigation_for, navigation_menu, role_labels


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_menu": [], "shell_roles": []}
    match = getattr(request, "resolver_match", None)
    items = navigation_for(user, current=match.view_name if match else None)
    return {
        "nav_items": items,
        "nav_menu": navigation_menu(items),
        "shell_roles": role_labels(user),
    }

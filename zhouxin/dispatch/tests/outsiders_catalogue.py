"""Who may not read or change the dispatch catalogue, the routing rules or use the calculator."""

from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.models import Category, RoutingRule
from zhouxin.testing.outsiders import Case

NOT_STAFF = ("unit_liaison", "member", "resident", "system_admin", "security_admin", "audit_admin")
STAFF_NOT_ADMIN = ("street_hub", "community_staff", "grid_worker", "department_handler", "outsider")


def cases(personas):
    with scopes_disabled():
        # A rule in 西城区: the 东城区 administrator must not see or delete it.
        category, _created = Category.objects.get_or_create(
            code="98", defaults={"name": "外区测试类别", "level": 1})
        foreign = RoutingRule.objects.unscoped().create(
            category=category, area=personas.areas["community_x"], organisation=personas.orgs["community_x_committee"])
    tree = reverse("dispatch:catalogue")
    create = reverse("dispatch:category_create")
    edit = reverse("dispatch:category_edit", args=["98"])
    rules = reverse("dispatch:routing_rules")
    delete = reverse("dispatch:routing_rule_delete", args=[foreign.pk])
    calculator = reverse("dispatch:deadline_calculator")
    new_category = {"parent": "", "code": "97", "name": "越权新增", "sla_class": "", "default_org_kind": ""}
    new_rule = {"category": "98", "area": personas.areas["community_x"].code,
                "organisation": str(personas.orgs["community_x_committee"].pk)}
    found = [
        Case("dispatch:catalogue", None, tree, frozenset({302})),
        Case("dispatch:category_create", None, create, frozenset({302})),
        Case("dispatch:category_edit", None, edit, frozenset({302})),
        Case("dispatch:routing_rules", None, rules, frozenset({302})),
        Case("dispatch:routing_rule_delete", None, delete, frozenset({302}), method="post"),
        Case("dispatch:deadline_calculator", None, calculator, frozenset({302})),
        # The district administrator of 东城区 cannot reach 西城区's rules.
        Case("dispatch:routing_rule_delete", "district_admin", delete, frozenset({404}), method="post"),
        # (The catalogue itself is the city's and may be listed; the rule and its area are not.)
        Case("dispatch:routing_rules", "district_admin", rules, frozenset({200}),
             must_not_contain=("西交民巷社区",)),
        Case("dispatch:routing_rules", "district_admin", rules, frozenset({400}), method="post", data=new_rule),
        Case("dispatch:routing_rules", "outsider", rules, frozenset({200}), must_not_contain=("多福巷社区",)),
    ]
    for persona in NOT_STAFF:
        found += [
            Case("dispatch:catalogue", persona, tree, frozenset({403})),
            Case("dispatch:routing_rules", persona, rules, frozenset({403})),
            Case("dispatch:deadline_calculator", persona, calculator, frozenset({403})),
        ]
    for persona in (*NOT_STAFF, *STAFF_NOT_ADMIN):
        found += [
            Case("dispatch:category_create", persona, create, frozenset({403})),
            Case("dispatch:category_create", persona, create, frozenset({403}), method="post", data=new_category),
            Case("dispatch:category_edit", persona, edit, frozenset({403})),
            Case("dispatch:category_edit", persona, edit, frozenset({403}), method="post",
                 data={"action": "deactivate"}),
            Case("dispatch:routing_rule_delete", persona, delete, frozenset({403}), method="post"),
        ]
    for persona in STAFF_NOT_ADMIN:
        found.append(Case("dispatch:routing_rules", persona, rules, frozenset({403}), method="post", data=new_rule))
    return found

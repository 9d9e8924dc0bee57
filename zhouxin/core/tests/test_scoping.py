import pytest

from zhouxin.core.scoping import ScopeError, activate, scope_for_user, scopes_disabled
from zhouxin.orgs.models import Area, Person


def test_unscoped_query_fails_loudly(personas):
    with pytest.raises(ScopeError):
        list(Area.objects.all())
    with pytest.raises(ScopeError):
        Person.objects.count()


def test_grant_reaches_the_subtree_only(personas):
    staff = personas.users["community_staff"]
    codes = set(Area.objects.restrict(staff).values_list("code", flat=True))
    assert codes == {"110101001001", "110101001001001"}
    names = set(Person.objects.restrict(staff).values_list("name", flat=True))
    assert names == {"吴桂兰", "周海燕"}


def test_street_hub_sees_its_streets_communities_not_the_other_street(personas):
    hub = personas.users["street_hub"]
    with activate(scope_for_user(hub)):
        codes = set(Area.objects.values_list("code", flat=True))
    assert "110101001002" in codes and "110101002001" not in codes


def test_three_admins_reach_no_business_data(personas):
    for name in ("system_admin", "security_admin", "audit_admin"):
        assert not Person.objects.restrict(personas.users[name]).exists()
        assert not Area.objects.restrict(personas.users[name]).exists()


def test_scopes_disabled_is_explicit(personas):
    with scopes_disabled():
        assert Area.objects.count() == 11


def test_reverse_relations_are_scoped_too(personas):
    staff = personas.users["community_staff"]
    street_a = personas.areas["street_a"]
    with activate(scope_for_user(staff)):
        # The street itself is outside the community worker's subtree; its children are filtered.
        children = {a.code for a in street_a.children.all()}
        orgs_here = {o.name for o in personas.areas["community_a"].organisations.all()}
    assert children == {"110101001001"}
    assert "中共多福巷社区委员会" in orgs_here
    with pytest.raises(ScopeError):
        list(street_a.children.all())

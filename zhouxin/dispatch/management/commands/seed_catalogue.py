"""Load the bundled dispatch catalogue (idempotent); optionally seed a district's routing rules."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import catalogue
from zhouxin.orgs.models import Area


class Command(BaseCommand):
    help = ("载入内置的诉求分类目录（可重复执行），可选为一个区生成派单规则 "
            "(load the bundled dispatch catalogue; --routing-district CODE seeds that district's routing rules)")

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(catalogue.CATALOGUE_FILE),
                            help="目录文件 (CSV: code,name,sla_class,org_kind,route,keywords)")
        parser.add_argument("--routing-district", metavar="CODE",
                            help="为该区（6 位区划代码）按目录的 route 列生成派单规则")

    def handle(self, *args, **options):
        try:
            rows = catalogue.read_catalogue(options["file"])
        except FileNotFoundError:
            raise CommandError(f"找不到目录文件：{options['file']}") from None
        except ValidationError as exc:
            raise CommandError("目录文件有误：\n" + "\n".join(exc.messages)) from None
        with scopes_disabled():
            result = catalogue.catalogue_seed(actor=None, rows=rows)
            leaves = sum(1 for r in rows if r.level == 3)
            self.stdout.write(
                f"诉求分类目录：{len(rows)} 项（{leaves} 个三级类别），新增 {len(result.created)}，"
                f"更新 {len(result.updated)}，恢复启用 {len(result.reactivated)}，停用 {len(result.deactivated)}，"
                f"删除 {len(result.deleted)}，管理员维护而保留 {len(result.kept_admin)} "
                f"(catalogue: {len(rows)} items, {len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.deactivated)} deactivated, {len(result.deleted)} deleted)")
            code = options.get("routing_district")
            if code:
                district = Area.objects.filter(code=code).first()
                if district is None:
                    raise CommandError(f"没有区划代码为 {code} 的区域。")
                try:
                    routed = catalogue.routing_seed_district(actor=None, district=district, rows=rows)
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
                self.stdout.write(
                    f"{district.name}派单规则：新增 {routed.created}，已存在 {routed.existing}，"
                    f"找不到承办单位 {len(routed.unmatched)} 处（由街道人工派单）"
                    f" ({routed.created} rules created, {routed.existing} kept, {len(routed.unmatched)} unmatched)")
                for label in routed.unmatched[:20] if options["verbosity"] > 1 else []:
                    self.stdout.write(f"  未匹配：{label}")

"""Load the demo district's party–masses service centres (党群服务中心): centres, rooms, opening hours, service
catalogues, the rota, three months of bookings, events and visitor counts (idempotent; only where the demo is
enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.centers import demo
from zhouxin.orgs.demo import DemoUnavailable


class Command(BaseCommand):
    help = "为演示区第一个街道加载党群服务中心、功能室、值班、预约、活动和来访人次（可重复执行）(load demo centres; idempotent)"

    def handle(self, *args, **options):
        try:
            created = demo.load_demo_centers()
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            "演示党群服务中心：新建中心 {centres} 个、功能室 {rooms} 间、服务事项 {services} 项、值班 {shifts} 班次、"
            "预约 {bookings} 条、活动 {events} 场、报名 {registrations} 人次、来访登记 {visits} 天 (demo centres created: "
            "{centres} centres, {rooms} rooms, {services} services, {shifts} shifts, {bookings} bookings, {events} events, "
            "{registrations} registrations, {visits} visitor counts)".format(**created))

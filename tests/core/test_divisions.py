from yunjian.core.models import Division, Zone


def test_yunnan_has_16_prefectures_and_129_counties_each_under_its_prefecture(db):
    prefectures = Division.objects.filter(level=Division.Level.PREFECTURE)
    counties = Division.objects.filter(level=Division.Level.COUNTY).select_related("parent")
    assert prefectures.count() == 16
    assert counties.count() == 129
    for county in counties:
        assert county.parent.level == Division.Level.PREFECTURE
        assert county.code[:4] == county.parent.code[:4]
    assert set(prefectures.values_list("parent_id", flat=True)) == {"530000"}
    assert Division.objects.get(pk="530302").name == "麒麟区"
    assert Division.objects.get(pk="532500").name == "红河哈尼族彝族自治州"


def test_prefecture_code_range_covers_its_counties_only(db):
    qujing = Division.objects.get(pk="530300")
    low, high = qujing.code_range
    inside = set(Division.objects.filter(code__gte=low, code__lt=high).values_list("code", flat=True))
    assert inside == {"530300"} | set(Division.objects.filter(parent=qujing).values_list("code", flat=True))


def test_dianzhong_is_a_zone_mapped_to_host_counties_not_an_invented_code(db):
    zone = Zone.objects.get(slug="dianzhong")
    assert zone.name == "滇中新区"
    assert set(zone.counties.values_list("code", flat=True)) == {"530111", "530127", "530181"}
    assert not Division.objects.filter(code__in=["533500", "530182"]).exists()

"""to_wgs84 undoes prcoords' own forward transforms and leaves non-Chinese points alone."""

from __future__ import annotations

import math
import warnings

import prcoords
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.routing.coords import SUPPORTED_CRS, to_wgs84

TOLERANCE = 1e-5  # degrees, about a metre

# Comfortably inside prcoords' China box, so shifted points stay inside it too.
china_lat = st.floats(min_value=18.0, max_value=53.0)
china_lon = st.floats(min_value=74.0, max_value=134.0)


class TestToWgs84:
    @given(lat=china_lat, lon=china_lon)
    def test_gcj02_point_round_trips_to_its_wgs84_origin(self, lat: float, lon: float) -> None:
        gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))

        back = to_wgs84(gcj.lat, gcj.lon, "gcj02")

        assert back == pytest.approx((lat, lon), abs=TOLERANCE)

    @given(lat=china_lat, lon=china_lon)
    def test_bd09_point_round_trips_to_its_wgs84_origin(self, lat: float, lon: float) -> None:
        bd = prcoords.wgs_bd(prcoords.Coords(lat, lon))

        back = to_wgs84(bd.lat, bd.lon, "bd09")

        assert back == pytest.approx((lat, lon), abs=TOLERANCE)

    @given(lat=st.floats(-90, 90), lon=st.floats(-180, 180))
    def test_wgs84_point_is_returned_unchanged(self, lat: float, lon: float) -> None:
        assert to_wgs84(lat, lon, "wgs84") == (lat, lon)

    def test_gcj02_shift_near_faku_is_actually_removed(self) -> None:
        # Guards against an identity implementation passing the round trips by luck of tolerance.
        gcj = prcoords.wgs_gcj(prcoords.Coords(42.5, 123.4))
        assert math.dist(gcj, (42.5, 123.4)) > 1e-3

        lat, lon = to_wgs84(gcj.lat, gcj.lon, "gcj02")

        assert math.dist((lat, lon), (42.5, 123.4)) < TOLERANCE

    def test_result_is_latitude_then_longitude(self) -> None:
        lat, lon = to_wgs84(42.5, 123.4, "bd09")

        assert 42.4 < lat < 42.6
        assert 123.3 < lon < 123.5

    @pytest.mark.parametrize("crs", ["gcj02", "bd09"])
    @pytest.mark.parametrize(
        ("lat", "lon"), [(48.8566, 2.3522), (-33.87, 151.21), (40.71, -74.0), (0.5, 120.0)]
    )
    def test_point_outside_china_is_returned_unchanged(
        self, crs: str, lat: float, lon: float
    ) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # prcoords warns when it sees foreign points

            assert to_wgs84(lat, lon, crs) == (lat, lon)

    @pytest.mark.parametrize("crs", ["", "wgs-84", "GCJ02", "epsg:4326", "bd09ll", "utm"])
    def test_unknown_crs_raises_value_error(self, crs: str) -> None:
        with pytest.raises(ValueError, match="unknown coordinate system"):
            to_wgs84(42.5, 123.4, crs)

    def test_supported_systems_are_the_three_documented_ones(self) -> None:
        assert set(SUPPORTED_CRS) == {"wgs84", "gcj02", "bd09"}

package simulate

import "math"

// Aerodrome is a real aerodrome the simulator flies between.
type Aerodrome struct {
	ICAO     string
	Lat, Lon float64 // degrees, WGS84 reference point
}

// Aerodromes is the simulator's built-in network.
var Aerodromes = []Aerodrome{
	{"EDDM", 48.3538, 11.7861}, {"EDDH", 53.6304, 9.9882}, {"EDDF", 50.0333, 8.5706},
	{"LHBP", 47.4298, 19.2611}, {"EGLL", 51.4700, -0.4543}, {"LFPG", 49.0097, 2.5479},
	{"LOWW", 48.1103, 16.5697}, {"EHAM", 52.3086, 4.7639}, {"LSZH", 47.4647, 8.5492},
	{"EKCH", 55.6181, 12.6561}, {"EPWA", 52.1657, 20.9671}, {"LKPR", 50.1008, 14.2600},
}

const earthRadiusNM = 3440.065

func rad(d float64) float64 { return d * math.Pi / 180 }
func deg(r float64) float64 { return r * 180 / math.Pi }

// distanceNM is the great-circle distance.
func distanceNM(lat1, lon1, lat2, lon2 float64) float64 {
	p1, p2 := rad(lat1), rad(lat2)
	dp, dl := p2-p1, rad(lon2-lon1)
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * earthRadiusNM * math.Asin(math.Min(1, math.Sqrt(a)))
}

// bearing is the initial great-circle course from 1 to 2, degrees 0-360.
func bearing(lat1, lon1, lat2, lon2 float64) float64 {
	p1, p2, dl := rad(lat1), rad(lat2), rad(lon2-lon1)
	y := math.Sin(dl) * math.Cos(p2)
	x := math.Cos(p1)*math.Sin(p2) - math.Sin(p1)*math.Cos(p2)*math.Cos(dl)
	return math.Mod(deg(math.Atan2(y, x))+360, 360)
}

// destination is the point distNM along course brg from (lat, lon).
func destination(lat, lon, brg, distNM float64) (float64, float64) {
	p1, l1, b, d := rad(lat), rad(lon), rad(brg), distNM/earthRadiusNM
	p2 := math.Asin(math.Sin(p1)*math.Cos(d) + math.Cos(p1)*math.Sin(d)*math.Cos(b))
	l2 := l1 + math.Atan2(math.Sin(b)*math.Sin(d)*math.Cos(p1), math.Cos(d)-math.Sin(p1)*math.Sin(p2))
	return deg(p2), math.Mod(deg(l2)+540, 360) - 180
}

// leg is a great-circle segment.
type leg struct {
	lat1, lon1, lat2, lon2 float64
	length                 float64 // NM
}

func newLeg(lat1, lon1, lat2, lon2 float64) leg {
	return leg{lat1, lon1, lat2, lon2, distanceNM(lat1, lon1, lat2, lon2)}
}

// at returns the point s NM along the leg and the course there.
func (l leg) at(s float64) (lat, lon, course float64) {
	brg := bearing(l.lat1, l.lon1, l.lat2, l.lon2)
	lat, lon = destination(l.lat1, l.lon1, brg, s)
	if l.length-s > 0.01 {
		course = bearing(lat, lon, l.lat2, l.lon2)
	} else {
		course = math.Mod(bearing(l.lat2, l.lon2, l.lat1, l.lon1)+180, 360)
	}
	return lat, lon, course
}
